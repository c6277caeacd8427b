/**
 * proxyRequest is the reverse proxy behind a Rewrite to an absolute URL (spec/rewrite.md
 * §1.11, ARR style): the request streams to the target, the response streams back. The Host
 * header becomes the target's (ARR's preserveHostHeader=false default); X-Forwarded-For gets
 * the client address and X-Original-URL carries the URL the client asked for. Hop-by-hop
 * fields go neither way: the fixed list and the fields each side's `Connection` names.
 */
import { request as httpRequest, type IncomingMessage, type OutgoingHttpHeaders } from 'node:http';
import { connectionOptions, hopByHopHeaders } from '../../http/hop-by-hop-headers.js';
import type { RequestContext } from '../../http/request-context.js';
import { fail } from '../../http/error-outcome.js';
import { lazyRequire } from '../../lazy-require.js';

// Loaded by the first proxied https URL: a host that proxies nothing over https never loads it.
const https = lazyRequire<typeof import('node:https')>('node:https');

/** proxyRequest forwards ctx's request to `target` and resolves when the response is done or failed. */
export function proxyRequest(ctx: RequestContext, target: string): Promise<void> {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    ctx.sendError(fail('NH_ERR_REWRITE_BAD_URL'));
    return Promise.resolve();
  }
  const headers: OutgoingHttpHeaders = {};
  const raw = ctx.req.rawHeaders;
  const named = connectionOptions(raw);
  for (let i = 0; i < raw.length; i += 2) {
    const lower = raw[i]!.toLowerCase();
    // Host is the target's (set below). Trailer announces trailer fields that piping the body
    // does not carry, so it goes too.
    if (hopByHopHeaders.has(lower) || lower === 'host' || lower === 'trailer' || named?.has(lower)) continue;
    const existing = headers[lower];
    headers[lower] = existing === undefined ? raw[i + 1]! : ([] as string[]).concat(existing as string | string[], raw[i + 1]!);
  }
  headers.host = url.host;
  const xff = ctx.req.headers['x-forwarded-for'];
  headers['x-forwarded-for'] = xff ? `${Array.isArray(xff) ? xff.join(', ') : xff}, ${ctx.remoteAddress}` : ctx.remoteAddress;
  if (ctx.req.headers['transfer-encoding'] !== undefined) headers['transfer-encoding'] = 'chunked';
  const request = url.protocol === 'https:' ? https().request : httpRequest;
  return new Promise((resolve) => {
    const upstream = request(url, { method: ctx.req.method, headers, agent: false });
    const onFailure = () => {
      if (!ctx.res.headersSent) ctx.sendError(fail('NH_ERR_REWRITE_PROXY'));
      else ctx.res.destroy();
      resolve();
    };
    upstream.on('error', onFailure);
    upstream.on('response', (response: IncomingMessage) => {
      const res = ctx.res;
      const head = response.rawHeaders;
      const named = connectionOptions(head);
      for (let i = 0; i < head.length; i += 2) {
        const lower = head[i]!.toLowerCase();
        if (hopByHopHeaders.has(lower) || named?.has(lower)) continue;
        res.appendHeader(head[i]!, head[i + 1]!);
      }
      ctx.status = response.statusCode ?? 502;
      res.writeHead(ctx.status, response.statusMessage);
      response.pipe(res);
      response.on('error', () => res.destroy());
      response.on('end', () => resolve());
      res.on('close', () => {
        if (!response.complete) response.destroy();
        resolve();
      });
    });
    ctx.res.on('close', () => {
      if (!ctx.res.writableFinished) upstream.destroy();
    });
    ctx.req.pipe(upstream);
  });
}
