/**
 * Which debugger URL a request is (spec 2.11), for app `/dir/app.js` and segment `debug`:
 * `/dir/app.js/debug` → redirect to `/dir/app.js/debug/`; `/dir/app.js/debug/ws` → the
 * tunnelled inspector WebSocket; `?kill` → end the session; anything else under
 * `/dir/app.js/debug/` → start or reuse a session (`?brk`: break on the first line) and show
 * the page. The segment is compared case-insensitively.
 */
import type { IisnodeSettings } from '../../config/types.js';
import type { RequestContext } from '../../http/request-context.js';

/** DebugRequest names what a debugger URL asks for. */
export type DebugRequest =
  | { readonly kind: 'redirect'; readonly location: string }
  | { readonly kind: 'ws' }
  | { readonly kind: 'kill' }
  | { readonly kind: 'page'; readonly isBreak: boolean };

/** claimDebugRequest returns what ctx asks of the debugger, or undefined when it is an app request (debugging off, other path). */
export function claimDebugRequest(ctx: RequestContext, settings: Readonly<IisnodeSettings>): DebugRequest | undefined {
  if (!settings.debuggingEnabled || ctx.pathInfo === '') return undefined;
  return matchDebugRequest(ctx, settings.debuggerPathSegment);
}

/**
 * matchDebugRequest returns what ctx asks of the debugger, or undefined when its path info
 * does not start with the segment (the request goes to the app). `segment` must not be empty.
 */
export function matchDebugRequest(ctx: RequestContext, segment: string): DebugRequest | undefined {
  const info = ctx.pathInfo;
  if (segment === '' || info.length < segment.length + 1 || info[0] !== '/') return undefined;
  if (info.slice(1, segment.length + 1).toLowerCase() !== segment.toLowerCase()) return undefined;
  const rest = info.slice(segment.length + 1);
  if (rest === '') {
    // The location keeps the client's spelling of the URL and its query.
    const raw = ctx.rawUrl;
    const q = raw.indexOf('?');
    return { kind: 'redirect', location: q < 0 ? raw + '/' : raw.slice(0, q) + '/' + raw.slice(q) };
  }
  if (rest[0] !== '/') return undefined;
  const names = queryNames(ctx.query);
  if (names.includes('kill')) return { kind: 'kill' };
  if (rest.toLowerCase() === '/ws') return { kind: 'ws' };
  return { kind: 'page', isBreak: names.includes('brk') };
}

function queryNames(query: string): string[] {
  if (query === '') return [];
  return query.split('&').map((part) => {
    const eq = part.indexOf('=');
    return (eq < 0 ? part : part.slice(0, eq)).toLowerCase();
  });
}
