/**
 * ACME Renewal Information (ARI, RFC 9773): a directory that offers `renewalInfo` tells, per
 * certificate, the window in which to renew it. A window that has already begun is how a
 * directory asks for a renewal now, when it is about to revoke or has revoked the certificate;
 * otherwise the certificate is renewed at a random time inside the window (spreading the load)
 * or at nodehost's own due time, whichever is earlier. The answer's Retry-After says when to
 * ask again.
 */
import { X509Certificate } from 'node:crypto';

/** Bounds of the time between two questions (RFC 9773 §4.3.2 asks for reasonable limits). */
export const RETRY_MIN_MS = 60_000;
export const RETRY_MAX_MS = 24 * 3600 * 1000;
/** When an answer gives no Retry-After. */
const RETRY_DEFAULT_MS = 6 * 3600 * 1000;

/** RenewalInfo is one answer: the suggested window, when to ask again, and the directory's explanation. */
export interface RenewalInfo {
  readonly start: number;
  readonly end: number;
  readonly retryAfterMs: number;
  readonly explanationUrl?: string | undefined;
}

/** A DER element: its tag and where its content starts and ends in the buffer. */
interface Der {
  readonly tag: number;
  readonly start: number;
  readonly end: number;
}

/** derAt reads the element at `offset` (definite lengths only, as DER has). */
function derAt(der: Buffer, offset: number): Der {
  const tag = der[offset]!;
  let length = der[offset + 1]!;
  let start = offset + 2;
  if (length & 0x80) {
    const bytes = length & 0x7f;
    length = 0;
    for (let i = 0; i < bytes; i++) length = length * 256 + der[start + i]!;
    start += bytes;
  }
  if (start + length > der.length) throw new Error('truncated DER');
  return { tag, start, end: start + length };
}

/** The DER of the authorityKeyIdentifier extension's OID, 2.5.29.35. */
const AUTHORITY_KEY_IDENTIFIER_OID = Buffer.from([0x06, 0x03, 0x55, 0x1d, 0x23]);

/**
 * certId is a certificate's ARI identifier: base64url of its authority key identifier's keyIdentifier,
 * a dot, base64url of its serial number's DER content; undefined without an authority key identifier.
 */
export function certId(certificatePem: string): string | undefined {
  const der = new X509Certificate(certificatePem).raw;
  // Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { [0] version OPTIONAL, serialNumber INTEGER, ... } ... }
  const tbs = derAt(der, derAt(der, 0).start);
  let field = derAt(der, tbs.start);
  if (field.tag === 0xa0) field = derAt(der, field.end);
  if (field.tag !== 0x02) return undefined;
  const serial = der.subarray(field.start, field.end);
  // Extension ::= SEQUENCE { extnID OID, critical BOOLEAN DEFAULT FALSE, extnValue OCTET STRING }
  const oid = der.indexOf(AUTHORITY_KEY_IDENTIFIER_OID, tbs.start);
  if (oid === -1) return undefined;
  let value = derAt(der, oid + AUTHORITY_KEY_IDENTIFIER_OID.length);
  if (value.tag === 0x01) value = derAt(der, value.end);
  if (value.tag !== 0x04) return undefined;
  // AuthorityKeyIdentifier ::= SEQUENCE { keyIdentifier [0] IMPLICIT OCTET STRING OPTIONAL, ... }
  const sequence = derAt(der, value.start);
  if (sequence.tag !== 0x30 || sequence.start === sequence.end) return undefined;
  const keyIdentifier = derAt(der, sequence.start);
  if (keyIdentifier.tag !== 0x80) return undefined;
  return `${der.subarray(keyIdentifier.start, keyIdentifier.end).toString('base64url')}.${serial.toString('base64url')}`;
}

/** parseRenewalInfo reads an answer's body and Retry-After header (seconds or an HTTP date); throws on a malformed window. */
export function parseRenewalInfo(body: unknown, retryAfter: string | undefined, now: number): RenewalInfo {
  const window = (body as { suggestedWindow?: { start?: unknown; end?: unknown } } | null)?.suggestedWindow;
  const start = typeof window?.start === 'string' ? Date.parse(window.start) : Number.NaN;
  const end = typeof window?.end === 'string' ? Date.parse(window.end) : Number.NaN;
  if (Number.isNaN(start) || Number.isNaN(end) || end < start) throw new Error('the renewal information has no valid suggestedWindow');
  const explanation = (body as { explanationURL?: unknown }).explanationURL;
  return { start, end, retryAfterMs: retryAfterMs(retryAfter, now), ...(typeof explanation === 'string' ? { explanationUrl: explanation } : {}) };
}

function retryAfterMs(header: string | undefined, now: number): number {
  if (header === undefined || header.trim() === '') return RETRY_DEFAULT_MS;
  const seconds = /^\s*\d+\s*$/.test(header) ? Number(header) * 1000 : Date.parse(header) - now;
  if (Number.isNaN(seconds)) return RETRY_DEFAULT_MS;
  return Math.min(RETRY_MAX_MS, Math.max(RETRY_MIN_MS, seconds));
}

/** RenewalPlan is what a site does next: order now, or check again at `at`. */
export type RenewalPlan = { readonly order: true } | { readonly order: false; readonly at: number };

/**
 * planRenewal decides from nodehost's own due time, the directory's window (if any) and the point
 * chosen inside it (`chosen`: a fraction in [0, 1), drawn once per window).
 */
export function planRenewal(due: number, info: RenewalInfo | undefined, chosen: number, now: number): RenewalPlan {
  if (info === undefined) return due <= now ? { order: true } : { order: false, at: due };
  const inWindow = info.start + chosen * (info.end - info.start);
  const renewal = Math.min(due, inWindow);
  if (renewal <= now || info.start <= now) return { order: true };
  return { order: false, at: Math.min(renewal, now + info.retryAfterMs) };
}
