/**
 * Conditional requests (RFC 9110 13) for the static file handler: If-Match,
 * If-Unmodified-Since, If-None-Match, If-Modified-Since and If-Range, evaluated against a
 * StaticFile's strong ETag and second-precision Last-Modified.
 */
import type { IncomingMessage } from 'node:http';
import { matchesEntityTag } from '../../http/entity-tag.js';
import type { StaticFile } from './static-file.js';

/**
 * Preconditions is the verdict on the validators of a GET or HEAD request: 'pass' (serve it),
 * 'not-modified' (304) or 'failed' (412).
 */
export type Preconditions = 'pass' | 'not-modified' | 'failed';

/**
 * checkPreconditions evaluates the conditional headers of a GET or HEAD request in the order
 * of RFC 9110 13.2.2. If-Modified-Since is consulted only without If-None-Match, and
 * If-Unmodified-Since only without If-Match. Unparseable dates are ignored, as the RFC
 * requires.
 */
export function checkPreconditions(req: IncomingMessage, file: StaticFile): Preconditions {
  const headers = req.headers;
  const ifMatch = headers['if-match'];
  if (ifMatch !== undefined) {
    if (!matchesEntityTag(ifMatch, file.etag, true)) return 'failed';
  } else {
    const ifUnmodifiedSince = headers['if-unmodified-since'];
    if (ifUnmodifiedSince !== undefined) {
      const date = Date.parse(ifUnmodifiedSince);
      if (!Number.isNaN(date) && file.lastModifiedMs > date) return 'failed';
    }
  }
  const ifNoneMatch = headers['if-none-match'];
  if (ifNoneMatch !== undefined) return matchesEntityTag(ifNoneMatch, file.etag, false) ? 'not-modified' : 'pass';
  const ifModifiedSince = headers['if-modified-since'];
  if (ifModifiedSince !== undefined) {
    const date = Date.parse(ifModifiedSince);
    if (!Number.isNaN(date) && file.lastModifiedMs <= date) return 'not-modified';
  }
  return 'pass';
}

/**
 * isRangeCurrent tells whether a Range header may be honoured: true without If-Range, or when
 * If-Range names the current file, by strong ETag comparison or by a date equal to its
 * Last-Modified (RFC 9110 13.1.5). When false the whole file is sent with 200.
 */
export function isRangeCurrent(req: IncomingMessage, file: StaticFile): boolean {
  const ifRange = req.headers['if-range'];
  if (ifRange === undefined) return true;
  if (typeof ifRange !== 'string') return false; // not a single validator: send the whole file
  // A weak tag (W/"...") never matches in a strong comparison.
  if (ifRange.startsWith('"') || ifRange.startsWith('W/')) return ifRange === file.etag;
  return Date.parse(ifRange) === file.lastModifiedMs;
}
