/**
 * The output cache's key (docs/output-cache.md): what makes two requests share one stored
 * response. One store serves one site, so the site is implicit. The key is built from
 *
 *   the scheme (the client's, or a trusted balancer's X-Forwarded-Proto) and the host the
 *   request names (normalisedHost: a site may answer many names, and an app may put the one
 *   it was asked for in its links)
 *   the URL path the handler serves (and the original path, when URL Rewrite changed it:
 *   node sees the original URL)
 *   the profile's varyByQueryString values (`*`: the whole query string as sent)
 *   the profile's varyByHeaders values (an absent header differs from an empty one)
 *   the content codings the request accepts (encodingKey)
 *
 * Fields are joined with `\n`, which neither a request target nor a header value can hold,
 * so two different requests never build the same key.
 */
import type { CacheProfile } from '../../config/types.js';
import type { RequestContext } from '../../http/request-context.js';

const ABSENT = '\u0001';

/** cacheKey builds the key of a request under `profile`; pure, no I/O. */
export function cacheKey(ctx: RequestContext, profile: CacheProfile): string {
  const raw = ctx.rawUrl;
  const q = raw.indexOf('?');
  let key = (ctx.isHttps ? 'https\n' : 'http\n') + normalisedHost(raw, ctx.req.headers.host, ctx.isHttps) + '\n' + ctx.path;
  // A rewritten request is answered for the URL the client sent (node receives that one).
  if (ctx.isRewritten) key += '\n' + (q === -1 ? raw : raw.slice(0, q));
  const query = q === -1 ? '' : raw.slice(q + 1);
  const vary = profile.varyByQueryString;
  if (vary === '*') key += '\n' + (q === -1 ? ABSENT : query);
  else if (vary.length > 0) key += '\n' + queryValues(query, vary);
  const headers = ctx.req.headers;
  for (const name of profile.varyByHeaders) {
    const value = headers[name];
    key += '\n' + (value === undefined ? ABSENT : Array.isArray(value) ? value.join(', ') : value);
  }
  return key + '\n' + encodingKey(headers['accept-encoding']);
}

/**
 * normalisedHost is the host a request names, as node sees it: the authority of an
 * absolute-form target (which replaces the Host field, RFC 9112 §3.2.2), else the Host field;
 * in lower case, without a trailing dot or the scheme's default port, so `Shop.Example.:80`
 * and `shop.example` share entries while another name or port gets its own.
 */
export function normalisedHost(rawUrl: string, host: string | undefined, isHttps: boolean): string {
  let name = host ?? '';
  if (rawUrl.charCodeAt(0) !== 47 /* '/' */) {
    const scheme = rawUrl.indexOf('://');
    if (scheme !== -1) {
      const start = scheme + 3;
      let end = rawUrl.length;
      for (const stop of ['/', '?', '#']) {
        const at = rawUrl.indexOf(stop, start);
        if (at !== -1 && at < end) end = at;
      }
      name = rawUrl.slice(start, end);
    }
  }
  name = name.toLowerCase();
  const colon = name.lastIndexOf(':');
  let port = '';
  // An IPv6 literal ends with ']' when it has no port.
  if (colon !== -1 && !name.endsWith(']')) {
    port = name.slice(colon + 1);
    name = name.slice(0, colon);
  }
  if (name.endsWith('.')) name = name.slice(0, -1);
  if (port === '' || port === (isHttps ? '443' : '80')) return name;
  return name + ':' + port;
}

/**
 * queryValues gives the values of the named query-string parameters, in the order of
 * `names`, each with every value it has in the query (raw, as sent). Names are compared
 * exactly after percent-decoding, as node frameworks read them (`id` and `ID` differ).
 */
export function queryValues(query: string, names: readonly string[]): string {
  const found: string[][] = names.map(() => []);
  if (query !== '') {
    for (const pair of query.split('&')) {
      const eq = pair.indexOf('=');
      const name = decodeName(eq === -1 ? pair : pair.slice(0, eq));
      const at = names.indexOf(name);
      if (at !== -1) found[at]!.push(eq === -1 ? '' : pair.slice(eq + 1));
    }
  }
  // A parameter that is absent differs from one that is present and empty.
  return found.map((values) => (values.length === 0 ? ABSENT : values.join('&'))).join('\u0002');
}

function decodeName(name: string): string {
  if (!name.includes('%') && !name.includes('+')) return name;
  try {
    return decodeURIComponent(name.replaceAll('+', ' '));
  } catch {
    return name;
  }
}

/** The codings a compression filter may choose (x-gzip is gzip). */
const KNOWN_CODINGS = ['br', 'gzip', 'deflate'] as const;

/**
 * encodingKey reduces an Accept-Encoding header to the content codings nodehost could send
 * (br, gzip, deflate) that it accepts, most preferred first (by q, then in that order):
 * `gzip, deflate, br` gives `br,gzip,deflate`, `gzip;q=1, br;q=0.5` gives `gzip,br`, no
 * header or `identity` gives ''. Requests with the same key accept exactly the same
 * codings, so whichever coding the compression filter picked for the stored response, every
 * request that finds it accepts it: a compressed variant never reaches a client that cannot
 * read it, and an identity variant is stored apart from the compressed ones.
 */
export function encodingKey(accept: string | string[] | undefined): string {
  if (accept === undefined) return '';
  const text = Array.isArray(accept) ? accept.join(',') : accept;
  if (text === '') return '';
  const q: Record<string, number | undefined> = {};
  let star: number | undefined;
  for (const item of text.split(',')) {
    const semi = item.indexOf(';');
    let name = (semi === -1 ? item : item.slice(0, semi)).trim().toLowerCase();
    if (name === 'x-gzip') name = 'gzip';
    let weight = 1;
    if (semi !== -1) {
      const match = /(?:^|;)\s*q\s*=\s*([0-9.]+)/i.exec(item.slice(semi));
      if (match !== null) weight = Number(match[1]);
      if (!Number.isFinite(weight)) weight = 0;
    }
    if (name === '*') star = weight;
    else if ((KNOWN_CODINGS as readonly string[]).includes(name)) q[name] = Math.max(q[name] ?? 0, weight);
  }
  const accepted: { name: string; weight: number; order: number }[] = [];
  KNOWN_CODINGS.forEach((name, order) => {
    const weight = q[name] ?? star ?? 0;
    if (weight > 0) accepted.push({ name, weight, order });
  });
  accepted.sort((a, b) => b.weight - a.weight || a.order - b.order);
  return accepted.map((coding) => coding.name).join(',');
}
