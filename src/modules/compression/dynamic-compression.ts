/**
 * Dynamic compression (IIS's DynamicCompressionModule, spec/rewrite.md §2.7): the response
 * filter that encodes node responses as they stream, with gzip, deflate or brotli as the
 * request's Accept-Encoding and the site's `<httpCompression>` allow.
 *
 *   open (the head is about to go out)
 *     ├─ type not enabled in dynamicTypes, or known length < minFileSizeForComp ─▶ untouched
 *     ├─ Vary: Accept-Encoding added (the response is eligible, whoever asks)
 *     ├─ no body / 206 / already encoded / no-transform / request excluded ─▶ identity
 *     ├─ negotiation gives identity ─▶ identity
 *     └─ Content-Encoding set, ETag marked, a SyncCompressor per response:
 *          write ─▶ encoded bytes (text/event-stream: flushed on every write)
 *          writer pauses ─▶ flush (the engine's idle flush), so bytes never wait for the end
 *          end ─▶ trailer
 *
 * Static files are compressed by the static handler (static-compression.ts), so this filter
 * wants only the requests whose handler is iisnode.
 */
import type { CompressionConfig } from '../../config/types.js';
import type { RequestContext } from '../../http/request-context.js';
import type { ResponseFilter, StreamingBodyFilter } from '../../http/response-filter.js';
import { negotiateCoding } from './accept-encoding.js';
import { compressionTotals, type CodingTotals } from './compression-totals.js';
import { addVaryAcceptEncoding, hasNoTransform, isEncoded, isRequestExcluded, variantEtag } from './compression-headers.js';
import { SyncCompressor } from './sync-compressor.js';

const EMPTY = Buffer.alloc(0);

/** dynamicCompression is the response filter of dynamic compression. */
export const dynamicCompression = {
  id: 'dynamic-compression',
  wants: (ctx: RequestContext): boolean => {
    // An upgrade's answer is a tunnel, not a body to encode.
    if (ctx.handler !== 'iisnode' || ctx.upgrade !== undefined) return false;
    const config = ctx.config?.compression;
    return config?.doDynamicCompression === true && config.schemes.length > 0 && !config.dynamicTypes.isEmpty;
  },
  open: (ctx: RequestContext, hasBody: boolean) => openDynamic(ctx, hasBody),
} as const satisfies ResponseFilter;

function openDynamic(ctx: RequestContext, hasBody: boolean): StreamingBodyFilter | undefined {
  const config = ctx.config!.compression as CompressionConfig;
  const res = ctx.res;
  const contentType = res.getHeader('content-type');
  if (contentType === undefined || !config.dynamicTypes.isEnabled(Array.isArray(contentType) ? contentType[0]! : String(contentType))) return undefined;
  const length = res.getHeader('content-length');
  if (length !== undefined && Number(length) < config.minFileSizeForComp) return undefined;
  // An encoding the application chose, or one it forbade, is left alone and varies by nothing of ours.
  if (isEncoded(res) || hasNoTransform(res)) return undefined;
  addVaryAcceptEncoding(res);
  if (!hasBody || res.statusCode === 206 || isRequestExcluded(ctx.req, config)) return undefined;
  const coding = negotiateCoding(ctx.req.headers['accept-encoding'], config.schemes);
  if (coding === 'identity') return undefined;
  res.setHeader('Content-Encoding', coding);
  const etag = res.getHeader('etag');
  if (typeof etag === 'string') res.setHeader('ETag', variantEtag(etag, coding));
  // Byte ranges of the identity body no longer apply.
  res.removeHeader('accept-ranges');
  const isEventStream = String(contentType).trim().toLowerCase().startsWith('text/event-stream');
  return new CompressingBody(new SyncCompressor(coding), isEventStream, ctx);
}

/** CompressingBody encodes one response body for the chain (see the file comment). */
class CompressingBody implements StreamingBodyFilter {
  readonly mode = 'stream' as const;
  readonly #compressor: SyncCompressor;
  readonly #isEventStream: boolean;
  readonly #totals: CodingTotals;
  /** Bytes went in since the last flush (an empty flush would still cost a 5-byte block). */
  #isDirty = false;

  constructor(compressor: SyncCompressor, isEventStream: boolean, ctx: RequestContext) {
    this.#compressor = compressor;
    this.#isEventStream = isEventStream;
    this.#totals = compressionTotals[compressor.scheme];
    // A response cut short never reaches end: free the encoder with it.
    ctx.res.once('close', () => compressor.close());
  }

  write(chunk: Buffer): Buffer {
    this.#totals.identityBytes += chunk.length;
    // Each server-sent event must arrive when it is written, not when the next one pushes it out.
    if (this.#isEventStream) return this.#counted(this.#compressor.writeFlushed(chunk));
    this.#isDirty = true;
    return this.#counted(this.#compressor.write(chunk));
  }

  flush(): Buffer {
    if (!this.#isDirty) return EMPTY;
    this.#isDirty = false;
    return this.#counted(this.#compressor.flush());
  }

  end(): Buffer {
    return this.#counted(this.#compressor.finish());
  }

  #counted(encoded: Buffer): Buffer {
    this.#totals.encodedBytes += encoded.length;
    return encoded;
  }
}
