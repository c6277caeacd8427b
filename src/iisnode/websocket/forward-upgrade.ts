/**
 * forwardUpgrade is the iisnode handler's side of an upgrade request (spec 2.4, 2.6): the
 * worker was chosen by dispatch and counted active like any request; the request head goes to
 * it over a fresh connection to its Unix socket (target and headers as for any request:
 * rawHeaders, the original target, X-Forwarded-For and promoted server variables), with
 * `Connection: Upgrade`. When the client socket can move (handoff.ts), the request carries a
 * hand-off id and the worker's preload takes the client socket itself; otherwise, on 101, the
 * connection becomes a tunnel through the host. Either way it stays an active request of that
 * worker until it has closed, and the access log gets its line then.
 */
import type { IisnodeSettings } from '../../config/types.js';
import type { NodehostError } from '../../errors.js';
import type { RequestContext } from '../../http/request-context.js';
import { fail } from '../../http/error-outcome.js';
import { buildRequestHead, compilePromoteServerVars, type ForwardSettings } from '../forward-headers.js';
import type { Worker } from '../worker.js';
import { canHandOff, HANDOFF_HEADER, UpgradeHandoff } from './handoff.js';
import { openTunnel } from './tunnel.js';

const forwardSettingsCache = new WeakMap<object, ForwardSettings>();

/** isUpgradeRequest tells whether ctx came in on the server's 'upgrade' event. */
export function isUpgradeRequest(ctx: RequestContext): boolean {
  return ctx.upgrade !== undefined;
}

/**
 * forwardUpgrade tunnels ctx to `worker`, which the caller has acquired (counted active).
 * `release(worker)` is called exactly once, when the tunnel or the answer is over. A failure
 * before the worker's response head gets the iisnode error page. Resolves once the client
 * has its 101 or its answer; never rejects.
 */
export function forwardUpgrade(ctx: RequestContext, worker: Worker, settings: Readonly<IisnodeSettings>, release: (worker: Worker) => void): Promise<void> {
  const upgrade = ctx.upgrade;
  if (upgrade === undefined) throw new Error('forwardUpgrade needs an upgrade request');
  let forward = forwardSettingsCache.get(settings);
  if (forward === undefined) {
    forward = { enableXFF: settings.enableXFF, promoted: compilePromoteServerVars(settings.promoteServerVars) };
    forwardSettingsCache.set(settings, forward);
  }
  const head = buildRequestHead(ctx, forward);
  const headers = withoutHandoffHeader(head.headers);
  headers.push('Connection', 'Upgrade');
  const extraHeaders = setCookieLines(ctx);
  // The access log runs on the response's close, which an upgraded connection never gives.
  const onClosed = (): void => {
    release(worker);
    ctx.res.emit('close');
  };
  const handoff = canHandOff(upgrade, worker) ? new UpgradeHandoff(ctx, upgrade, worker, extraHeaders, onClosed) : undefined;
  if (handoff !== undefined) headers.push(HANDOFF_HEADER, handoff.id);
  return openTunnel(ctx, upgrade, {
    socketPath: worker.socketPath,
    method: ctx.req.method ?? 'GET',
    path: head.target,
    headers,
    maxHeadBytes: settings.maxRequestBufferSize,
    key: worker,
    extraHeaders,
    handoff,
    onEnd: (error: NodehostError | undefined) => {
      if (upgrade.isTunnelled) {
        onClosed();
        return;
      }
      release(worker);
      if (error === undefined) return;
      ctx.sendError(fail(error, { worker: { devErrorsEnabled: settings.devErrorsEnabled, isProcessAssigned: true, stderrTail: worker.stderrTail.text() } }));
    },
  });
}

/** withoutHandoffHeader drops a hand-off header the client sent: only the host may name a hand-off. */
function withoutHandoffHeader(headers: string[]): string[] {
  const name = HANDOFF_HEADER.toLowerCase();
  if (!headers.some((h, i) => i % 2 === 0 && h.toLowerCase() === name)) return headers;
  return headers.filter((_, i) => (headers[i - (i % 2)] ?? '').toLowerCase() !== name);
}

/** setCookieLines returns the Set-Cookie headers already set on the response (sticky sessions) as name, value pairs. */
function setCookieLines(ctx: RequestContext): string[] {
  const value = ctx.res.getHeader('set-cookie');
  if (value === undefined) return [];
  const values = Array.isArray(value) ? value : [String(value)];
  const out: string[] = [];
  for (const v of values) out.push('Set-Cookie', v);
  return out;
}
