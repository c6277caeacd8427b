/**
 * The header rules compression shares between node responses (dynamic-compression.ts) and
 * static files (static-compression.ts): which responses are never compressed, Vary, and the
 * ETag of an encoded variant.
 */
import type { IncomingMessage } from 'node:http';
import type { CompressionConfig } from '../../config/types.js';
import type { HttpResponse } from '../../http/http-response.js';

/**
 * isRequestExcluded tells whether the request's own traits rule compression out (spec §2.7):
 * an HTTP/1.0 client (noCompressionForHttp10), a request through a proxy, which carries `Via`
 * (noCompressionForProxies), and a range request (noCompressionForRange). HEAD is never
 * compressed either: it must not cost an encoding whose bytes are not sent.
 */
export function isRequestExcluded(req: IncomingMessage, config: CompressionConfig): boolean {
  if (req.method === 'HEAD') return true;
  const headers = req.headers;
  if (config.noCompressionForRange && headers.range !== undefined) return true;
  if (config.noCompressionForProxies && headers.via !== undefined) return true;
  return config.noCompressionForHttp10 && req.httpVersionMajor === 1 && req.httpVersionMinor === 0;
}

/** hasNoTransform tells whether Cache-Control carries no-transform (RFC 9111 §5.2.2.6): intermediaries, nodehost included, must not re-encode. */
export function hasNoTransform(res: HttpResponse): boolean {
  const value = res.getHeader('cache-control');
  if (value === undefined) return false;
  const text = Array.isArray(value) ? value.join(',') : String(value);
  return /(?:^|[\s,])no-transform(?:$|[\s,;=])/i.test(text);
}

/** isEncoded tells whether the response already has a content coding other than identity. */
export function isEncoded(res: HttpResponse): boolean {
  const value = res.getHeader('content-encoding');
  if (value === undefined) return false;
  const text = (Array.isArray(value) ? value.join(',') : String(value)).trim().toLowerCase();
  return text !== '' && text !== 'identity';
}

/**
 * addVaryAcceptEncoding adds `Accept-Encoding` to the response's Vary, keeping what is there
 * (`Vary: Cookie` becomes `Cookie, Accept-Encoding`); nothing when it is listed or Vary is `*`.
 */
export function addVaryAcceptEncoding(res: HttpResponse): void {
  const value = res.getHeader('vary');
  if (value === undefined) {
    res.setHeader('Vary', 'Accept-Encoding');
    return;
  }
  const text = Array.isArray(value) ? value.join(', ') : String(value);
  if (/(?:^|,)\s*(?:accept-encoding|\*)\s*(?:,|$)/i.test(text)) return;
  res.setHeader('Vary', text.trim() === '' ? 'Accept-Encoding' : `${text}, Accept-Encoding`);
}

/**
 * variantEtag returns the entity tag of an encoded variant: the coding appended inside the
 * quotes (`"abc"` → `"abc-gzip"`, `W/"abc"` → `W/"abc-gzip"`), as Apache's mod_deflate does,
 * so a cache never mixes the encoded bytes with the identity ones (RFC 9110 §8.8.3).
 */
export function variantEtag(etag: string, coding: string): string {
  const close = etag.lastIndexOf('"');
  if (close <= 0) return etag;
  return `${etag.slice(0, close)}-${coding}"`;
}
