/**
 * The custom-headers response filter (spec/rewrite.md §2.9): `httpProtocol/customHeaders` on
 * every response (static, node, redirects, error pages), `redirectHeaders` on redirects only
 * (a 3xx with a Location). Headers are appended, never replacing what the handler set: when
 * node sends `X-Powered-By: Express`, the client gets that and `X-Powered-By: nodehost`, as
 * IIS sends both. Head-only: it never touches the body, so it keeps responses on the
 * engine's cheap head hook (pipeline/response-chain.ts); a precomputed head (a cached static
 * file's) gets the custom headers appended to its list, built once per head and configuration.
 */
import type { HttpProtocolConfig } from '../../config/types.js';
import type { RequestContext } from '../../http/request-context.js';
import type { ResponseFilter } from '../../http/response-filter.js';

/** ExtendedHead is a precomputed head with one configuration's custom headers appended. */
interface ExtendedHead {
  readonly protocol: HttpProtocolConfig;
  readonly list: readonly string[];
}

/**
 * Extended heads by the list they extend. A cached static file keeps its head list for its
 * life, so the entry goes with it; a configuration reload makes a new HttpProtocolConfig, and
 * the entry is rebuilt on the next request.
 */
const extendedHeads = new WeakMap<readonly string[], ExtendedHead>();

/** customHeaders is the response filter of httpProtocol's customHeaders and redirectHeaders. */
export const customHeaders = {
  id: 'custom-headers',
  isHeadOnly: true,
  wants(ctx: RequestContext): boolean {
    const protocol = ctx.config?.httpProtocol;
    return protocol !== undefined && (protocol.customHeaders.length > 0 || protocol.redirectHeaders.length > 0);
  },
  open(ctx: RequestContext): undefined {
    const res = ctx.res;
    const protocol = ctx.config!.httpProtocol;
    for (const header of protocol.customHeaders) res.appendHeader(header.name, header.value);
    if (protocol.redirectHeaders.length > 0 && res.statusCode >= 300 && res.statusCode < 400 && res.hasHeader('location')) {
      for (const header of protocol.redirectHeaders) res.appendHeader(header.name, header.value);
    }
    return undefined;
  },
  extendHeadList(ctx: RequestContext, status: number, list: readonly string[]): readonly string[] {
    const protocol = ctx.config!.httpProtocol;
    if (protocol.redirectHeaders.length > 0 && status >= 300 && status < 400 && hasLocation(list)) {
      return [...list, ...protocol.customHeaderList, ...protocol.redirectHeaders.flatMap((header) => [header.name, header.value])];
    }
    const known = extendedHeads.get(list);
    if (known !== undefined && known.protocol === protocol) return known.list;
    const extended = Object.freeze([...list, ...protocol.customHeaderList]);
    extendedHeads.set(list, { protocol, list: extended });
    return extended;
  },
} as const satisfies ResponseFilter;

function hasLocation(list: readonly string[]): boolean {
  for (let i = 0; i < list.length; i += 2) if (list[i]!.toLowerCase() === 'location') return true;
  return false;
}
