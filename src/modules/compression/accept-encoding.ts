/**
 * Content-coding negotiation (RFC 9110 §12.5.3): which of the enabled schemes a request's
 * `Accept-Encoding` allows, by q-value, with the server's preference br > gzip > deflate on
 * ties.
 *
 * Rules, in the RFC's terms:
 * - no Accept-Encoding field: the client has no preference; nodehost sends identity (as IIS
 *   and nginx do: an old client without the field may not decode anything);
 * - a coding listed with q=0 is refused; a coding not listed takes the q of `*` when present,
 *   else it is refused; `x-gzip` counts as gzip (RFC 9110 §8.4.1.3);
 * - identity is acceptable unless refused by `identity;q=0`, or by `*;q=0` without an
 *   `identity` entry; when it is preferred over every acceptable coding, it is chosen;
 * - when identity is refused and no enabled coding is acceptable, identity is sent anyway
 *   rather than 406: RFC 9110 §12.5.3 lets the server disregard the field, and an
 *   uncompressed page is more useful to the client than an error.
 */
import type { CompressionScheme } from '../../config/types.js';

/** AcceptedCodings holds the q-value (0 to 1000, thousandths) the field gives each coding nodehost knows. */
export interface AcceptedCodings {
  readonly br: number;
  readonly gzip: number;
  readonly deflate: number;
  readonly identity: number;
}

/** NO_PREFERENCE is the reading of a request without Accept-Encoding: identity only. */
const NO_PREFERENCE: AcceptedCodings = Object.freeze({ br: 0, gzip: 0, deflate: 0, identity: 1000 });

/** parseAcceptEncoding reads an Accept-Encoding field value; malformed members are skipped. */
export function parseAcceptEncoding(value: string | undefined): AcceptedCodings {
  if (value === undefined) return NO_PREFERENCE;
  let br = -1;
  let gzip = -1;
  let deflate = -1;
  let identity = -1;
  let star = -1;
  for (const member of value.split(',')) {
    const semi = member.indexOf(';');
    const coding = (semi < 0 ? member : member.slice(0, semi)).trim().toLowerCase();
    if (coding === '') continue;
    const q = semi < 0 ? 1000 : parseQ(member.slice(semi + 1));
    if (q < 0) continue;
    switch (coding) {
      case 'br':
        br = q;
        break;
      case 'gzip':
      case 'x-gzip':
        gzip = Math.max(gzip, q);
        break;
      case 'deflate':
        deflate = q;
        break;
      case 'identity':
        identity = q;
        break;
      case '*':
        star = q;
        break;
      default:
        break;
    }
  }
  const unlisted = Math.max(star, 0);
  return {
    br: br < 0 ? unlisted : br,
    gzip: gzip < 0 ? unlisted : gzip,
    deflate: deflate < 0 ? unlisted : deflate,
    // identity is acceptable unless named (or `*`) with q=0 (RFC 9110 §12.5.3); when not named
    // it ranks below every coding the client listed.
    identity: identity >= 0 ? identity : star === 0 ? 0 : 1,
  };
}

/** Reads `q=0.5` among the parameters of one member; 1000 when absent, -1 when malformed. */
function parseQ(parameters: string): number {
  for (const parameter of parameters.split(';')) {
    const eq = parameter.indexOf('=');
    if (eq < 0 || parameter.slice(0, eq).trim().toLowerCase() !== 'q') continue;
    const text = parameter.slice(eq + 1).trim();
    // qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )
    if (!/^(?:0(?:\.[0-9]{0,3})?|1(?:\.0{0,3})?)$/.test(text)) return -1;
    return Math.round(Number(text) * 1000);
  }
  return 1000;
}

/**
 * chooseCoding returns the scheme to encode with, or 'identity': the acceptable enabled scheme
 * with the highest q, the first of `schemes` (server preference order) on a tie; identity when
 * the client prefers it strictly, or when nothing enabled is acceptable.
 */
export function chooseCoding(accepted: AcceptedCodings, schemes: readonly CompressionScheme[]): CompressionScheme | 'identity' {
  let best: CompressionScheme | 'identity' = 'identity';
  let bestQ = 0;
  for (const scheme of schemes) {
    const q = accepted[scheme];
    if (q > bestQ) {
      best = scheme;
      bestQ = q;
    }
  }
  if (best !== 'identity' && accepted.identity > bestQ) return 'identity';
  return best;
}

/** Parsed field values, remembered: browsers send a handful of distinct values. */
const parsed = new Map<string, AcceptedCodings>();

/** negotiateCoding is chooseCoding of a request's Accept-Encoding field, parsing each distinct value once. */
export function negotiateCoding(value: string | string[] | undefined, schemes: readonly CompressionScheme[]): CompressionScheme | 'identity' {
  if (value === undefined || schemes.length === 0) return 'identity';
  const text = typeof value === 'string' ? value : value.join(',');
  let accepted = parsed.get(text);
  if (accepted === undefined) {
    accepted = parseAcceptEncoding(text);
    if (parsed.size >= 512) parsed.clear();
    parsed.set(text, accepted);
  }
  return chooseCoding(accepted, schemes);
}
