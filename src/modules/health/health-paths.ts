/**
 * The health probes on the sites' own ports (nodehost.yml `admin: { healthPath }`, docs/admin.md):
 * `<healthPath>/ready` and `<healthPath>/live` answer as the admin listener's `/ready` and `/live`
 * do, for load balancers that can only probe the port they send traffic to. Phase 'begin', first
 * of all: a probe is answered before IP restrictions, rewrite rules or authentication could turn
 * it into something else, and it tells nothing but whether this host serves.
 */
import type { Outcome, PipelineModule } from '../../http/pipeline-module.js';
import type { RequestContext } from '../../http/request-context.js';

/** Readiness is this host's answer to /ready: ready, or why not. */
export interface HealthReadiness {
  readonly isReady: boolean;
  readonly reason: string;
}

/** createHealthModule answers GET and HEAD of `<prefix>/ready` and `<prefix>/live`; every other request goes on. */
export function createHealthModule(prefix: string, readiness: () => HealthReadiness): PipelineModule {
  const readyPath = `${prefix}/ready`;
  const livePath = `${prefix}/live`;
  return {
    id: 'health',
    phase: 'begin',
    handle(ctx: RequestContext): Outcome {
      if (ctx.path !== readyPath && ctx.path !== livePath) return 'continue';
      const method = ctx.req.method;
      if (method !== 'GET' && method !== 'HEAD') return 'continue';
      let status = 200;
      let body: object = { live: true };
      if (ctx.path === readyPath) {
        const ready = readiness();
        status = ready.isReady ? 200 : 503;
        body = ready.isReady ? { ready: true } : { ready: false, reason: ready.reason };
      }
      const text = JSON.stringify(body);
      ctx.status = status;
      ctx.res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
      ctx.res.end(method === 'HEAD' ? undefined : text);
      return 'finish';
    },
  };
}
