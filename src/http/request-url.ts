/**
 * Parsing of the request target into the decoded, normalised path that configuration,
 * filtering and handler mapping work on. The raw target itself is never changed: node
 * receives it as the client sent it.
 */

/** ParsedUrl is the decoded path (starting with `/`) and the raw query (without `?`). */
export interface ParsedUrl {
  readonly path: string;
  readonly query: string;
  readonly hasQuery: boolean;
}

/**
 * parseRequestUrl decodes and normalises a request target. Returns undefined for a target
 * that cannot name a resource here: bad percent-encoding, a NUL byte, or `..` climbing
 * above the root (answered 400 by the caller).
 */
export function parseRequestUrl(target: string): ParsedUrl | undefined {
  let rest = target;
  // Absolute form (RFC 9112 §3.2.2): keep only the path and query.
  if (!rest.startsWith('/')) {
    if (rest === '*') return { path: '/', query: '', hasQuery: false };
    const scheme = rest.indexOf('://');
    if (scheme === -1) return undefined;
    const slash = rest.indexOf('/', scheme + 3);
    rest = slash === -1 ? '/' : rest.slice(slash);
  }
  const q = rest.indexOf('?');
  const rawPath = q === -1 ? rest : rest.slice(0, q);
  const query = q === -1 ? '' : rest.slice(q + 1);
  let decoded: string;
  try {
    decoded = rawPath.includes('%') ? decodeURIComponent(rawPath) : rawPath;
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const path = normalizePath(decoded);
  if (path === undefined) return undefined;
  return { path, query, hasQuery: q !== -1 };
}

/**
 * normalizePath resolves `.` and `..` segments and collapses repeated slashes, keeping a
 * trailing slash (it distinguishes `/dir/` from `/dir`). Undefined when `..` leaves the root.
 */
export function normalizePath(path: string): string | undefined {
  if (!path.includes('/.') && !path.includes('//')) return path;
  const out: string[] = [];
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment === '' || segment === '.') continue;
    if (segment === '..') {
      if (out.length === 0) return undefined;
      out.pop();
      continue;
    }
    out.push(segment);
  }
  const last = segments[segments.length - 1];
  const trailing = last === '' || last === '.' || last === '..';
  const joined = '/' + out.join('/');
  return trailing && out.length > 0 ? joined + '/' : joined;
}
