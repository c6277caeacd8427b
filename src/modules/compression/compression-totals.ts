/**
 * compressionTotals count, per coding, the bytes compression took in (identity) and gave out
 * (encoded) in this host process, for `/metrics` (docs/admin.md): dynamic compression as it
 * encodes each chunk, and the static handler for each full 200 answer with an encoded variant
 * (the file's size and the variant's). Plain numbers, read when scraped (STYLE 15).
 */
import type { CompressionScheme } from '../../config/types.js';

/** CodingTotals are the bytes before and after one coding. */
export interface CodingTotals {
  identityBytes: number;
  encodedBytes: number;
}

export const compressionTotals: Readonly<Record<CompressionScheme, CodingTotals>> = {
  br: { identityBytes: 0, encodedBytes: 0 },
  gzip: { identityBytes: 0, encodedBytes: 0 },
  deflate: { identityBytes: 0, encodedBytes: 0 },
};
