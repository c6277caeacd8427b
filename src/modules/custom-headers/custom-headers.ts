/**
 * The custom-headers response filter (spec/rewrite.md §2.9): `httpProtocol/customHeaders` on
 * every response (static, node, redirects, error pages), `redirectHeaders` on redirects only
 * (a 3xx with a Location). Headers are appended, never replacing what the handler set: when
 * node sends `X-Powered-By: Express`, the client gets that and `X-Powered-By: nodehost`, as
 * IIS sends both. Head-only: it never touches the body, so it keeps responses on the
 * engine's cheap head hook (pipeline/response-chain.ts).
 */
import type { RequestContext } from '../../http/request-context.js';
import type { ResponseFilter } from '../../http/response-filter.js';

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
} as const satisfies ResponseFilter;
