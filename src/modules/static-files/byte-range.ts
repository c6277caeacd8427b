/**
 * Parsing of the Range request header (RFC 9110 14.1.2, 14.2) for the static file handler.
 */

/**
 * ByteRange is the verdict on a Range header for a file of known size. `kind` is
 * - 'none': no usable range (absent, another unit, or invalid syntax, which RFC 9110 14.2 lets
 *   a server ignore): send the whole file with 200;
 * - 'multiple': more than one range: nodehost sends the whole file with 200 instead of a
 *   multipart/byteranges body, which RFC 9110 14.2 allows (a server MAY ignore Range);
 * - 'unsatisfiable': no byte of the file is named: 416;
 * - 'single': send bytes `start`..`end` (inclusive) with 206.
 * `start` and `end` are 0 unless `kind` is 'single'.
 */
export interface ByteRange {
  readonly kind: 'none' | 'single' | 'multiple' | 'unsatisfiable';
  readonly start: number;
  readonly end: number;
}

const NO_RANGE: ByteRange = Object.freeze({ kind: 'none', start: 0, end: 0 });
const MULTIPLE_RANGES: ByteRange = Object.freeze({ kind: 'multiple', start: 0, end: 0 });
const UNSATISFIABLE: ByteRange = Object.freeze({ kind: 'unsatisfiable', start: 0, end: 0 });

// int-range / suffix-range with the optional whitespace a list element may carry.
const RANGE_SPEC = /^[ \t]*(\d*)-(\d*)[ \t]*$/;

/**
 * parseByteRange reads a Range header value against a file of `size` bytes. It never
 * throws; the verdicts other than 'single' are shared frozen objects.
 */
export function parseByteRange(header: string, size: number): ByteRange {
  // The unit is case-insensitive (RFC 9110 14.1); any unit but bytes is ignored.
  if (header.length < 6 || header.slice(0, 6).toLowerCase() !== 'bytes=') return NO_RANGE;
  let spec = header.slice(6);
  if (spec.includes(',')) {
    // A list may carry empty elements ("bytes=0-1,"); only the non-empty ones count.
    let only: string | undefined;
    for (const element of spec.split(',')) {
      if (element.trim() === '') continue;
      if (only !== undefined) return MULTIPLE_RANGES;
      only = element;
    }
    if (only === undefined) return NO_RANGE;
    spec = only;
  }
  const match = RANGE_SPEC.exec(spec);
  if (match === null) return NO_RANGE;
  const first = match[1]!;
  const last = match[2]!;
  if (first === '') {
    if (last === '') return NO_RANGE;
    // suffix-range "-n": the last n bytes; satisfiable only when n > 0 and the file is not empty.
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return UNSATISFIABLE;
    return { kind: 'single', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  let end = size - 1;
  if (last !== '') {
    const lastPos = Number(last);
    if (lastPos < start) return NO_RANGE; // an invalid range, so the header is ignored
    end = Math.min(lastPos, end);
  }
  if (start >= size) return UNSATISFIABLE;
  return { kind: 'single', start, end };
}
