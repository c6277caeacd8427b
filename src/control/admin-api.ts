/**
 * AdminApi is the admin API of a running nodehost (DESIGN §5, docs/admin.md): HTTP/1.1 with
 * JSON bodies, served on the control socket (file permissions decide who may use it) and on
 * the optional TCP admin listener (a bearer token when configured).
 *
 * ```
 *   GET  /v1/server           version, pid, uptime, host processes, automatic certificates
 *   GET  /v1/sites            the site: name, root, configuration error
 *   GET  /v1/apps             applications: generations, processes (pid, state, uptime, RSS, CPU, requests), restarts
 *   POST /v1/apps/recycle     ?app=/hello.js  answered once each new generation serves or failed
 *   POST /v1/apps/stop        ?app=…          answered once the workers are gone
 *   POST /v1/apps/start       ?app=/hello.js  starts an application without a request
 *   POST /v1/reload           re-reads every web.config now
 *   GET  /metrics             Prometheus text
 *   GET  /ready, /live        health
 *   errors: { "error": { "code": "NH_ERR_…", "message": "…" } } with the code's status
 * ```
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { ERRORS, NodehostError, type ErrorCode } from '../errors.js';
import type { ApplicationStats } from '../iisnode/application.js';
import { version } from '../version.js';
import { METRICS_CONTENT_TYPE } from './metrics.js';
import { readProcessUsage } from './proc-stat.js';

/** AppStatus is one application in one host process. */
export type AppStatus = ApplicationStats & { readonly frontDoor?: number; readonly frontDoorPid?: number };

/** HostStatus is what the target reports: the site and its applications (each front door's, when several). */
export interface HostStatus {
  readonly site: string;
  readonly root: string;
  readonly configError: string;
  readonly hostProcesses?: number;
  readonly frontDoors?: readonly { readonly index: number; readonly pid: number; readonly error?: string }[];
  readonly apps: readonly AppStatus[];
  /** The automatic (ACME) certificates, one per site with `tls: { acme: true }`: names, issuer, expiry, state; absent when there are none. */
  readonly certificates?: readonly CertificateState[] | undefined;
}

/** CertificateState is one automatic certificate in the status (server/acme/ fills it in). */
export interface CertificateState {
  readonly site: string;
  readonly names: readonly string[];
  readonly issuer: string;
  readonly notAfter: string;
  readonly renewAt: string;
  readonly state: string;
  readonly lastError?: string | undefined;
}

/** RecycledApp is the outcome of one application's recycle. */
export interface RecycledApp {
  readonly script: string;
  readonly result: { readonly isServing: boolean; readonly generation: number; readonly error?: string };
}

/** Readiness is what /ready answers. */
export interface Readiness {
  readonly isReady: boolean;
  /** Why not, when not ready ('' when ready). */
  readonly reason: string;
}

/** AdminTarget is what the admin API asks of the server (one process or the front doors' primary); it knows nothing else about it. */
export interface AdminTarget {
  status(): HostStatus | Promise<HostStatus>;
  recycle(app?: string): Promise<readonly RecycledApp[]>;
  stop(app?: string): Promise<readonly string[]>;
  startApp(app: string): Promise<{ readonly script: string; readonly error?: string }>;
  reload(): Promise<{ readonly configError: string }> | { readonly configError: string };
  metrics(): Promise<string>;
  readiness(): Readiness | Promise<Readiness>;
}

/** AdminApiOptions: a token, when set, is required as `Authorization: Bearer <token>` on every path but /live and /ready. */
export interface AdminApiOptions {
  readonly token?: string | undefined;
}

const START_TIME = Date.now();

/** AdminApi: `handle(req, res)` answers one request; it never throws. */
export class AdminApi {
  readonly #target: AdminTarget;

  constructor(target: AdminTarget) {
    this.#target = target;
  }

  /** handler returns the request listener of one listener (the token applies to that listener only). */
  handler(options: AdminApiOptions = {}): (req: IncomingMessage, res: ServerResponse) => void {
    const token = options.token === undefined || options.token === '' ? undefined : Buffer.from(`Bearer ${options.token}`);
    return (req, res) => {
      void this.#handle(req, res, token).catch((err: unknown) => {
        sendError(res, new NodehostError('NH_ERR_INTERNAL', (err as Error)?.message ?? String(err)));
      });
    };
  }

  async #handle(req: IncomingMessage, res: ServerResponse, token: Buffer | undefined): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    const route = `${req.method} ${url.pathname}`;
    // Health probes carry no secret: orchestrators probe them without credentials.
    if (url.pathname === '/live') return sendJson(res, 200, { live: true });
    if (url.pathname === '/ready') {
      const ready = await this.#target.readiness();
      return sendJson(res, ready.isReady ? 200 : 503, ready.isReady ? { ready: true } : { ready: false, reason: ready.reason });
    }
    if (token !== undefined && !isAuthorized(req.headers.authorization, token)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return sendError(
        res,
        new NodehostError('NH_ERR_ADMIN_UNAUTHORIZED', 'this admin listener needs Authorization: Bearer <token> (admin.token in nodehost.yml)'),
      );
    }
    const app = url.searchParams.get('app') ?? undefined;
    const target = this.#target;
    switch (route) {
      case 'GET /v1/server': {
        const status = await target.status();
        const doors = status.frontDoors ?? [{ index: 0, pid: process.pid }];
        return sendJson(res, 200, {
          version,
          pid: process.pid,
          uptimeMs: Date.now() - START_TIME,
          hostProcesses: doors.map((door) => ({ ...door, ...readProcessUsage(door.pid) })),
          ...(status.certificates === undefined ? {} : { certificates: status.certificates }),
        });
      }
      case 'GET /v1/sites': {
        const status = await target.status();
        return sendJson(res, 200, {
          sites: [{ name: status.site, root: status.root, configError: status.configError, apps: new Set(status.apps.map((a) => a.script)).size }],
        });
      }
      case 'GET /v1/apps': {
        const status = await target.status();
        return sendJson(res, 200, { apps: status.apps.map((entry) => describeApp(status, entry)) });
      }
      case 'POST /v1/apps/recycle': {
        const recycled = await target.recycle(app);
        if (app !== undefined && recycled.length === 0) return sendError(res, noSuchApp(app));
        const isFailed = recycled.some((r) => !r.result.isServing);
        return sendJson(res, isFailed ? 500 : 200, { recycled: recycled.map(({ script, result }) => ({ script, ...result })) });
      }
      case 'POST /v1/apps/stop': {
        const stopped = await target.stop(app);
        if (app !== undefined && stopped.length === 0) return sendError(res, noSuchApp(app));
        return sendJson(res, 200, { stopped });
      }
      case 'POST /v1/apps/start': {
        if (app === undefined)
          return sendError(res, new NodehostError('NH_ERR_ADMIN_BAD_REQUEST', 'start needs ?app=<URL path of the entry script>, e.g. ?app=/hello.js'));
        const started = await target.startApp(app);
        if (started.error !== undefined) return sendError(res, new NodehostError('NH_ERR_ADMIN_APP_START', `${started.script}: ${started.error}`));
        return sendJson(res, 200, { started: started.script });
      }
      case 'POST /v1/reload': {
        const reloaded = await target.reload();
        if (reloaded.configError !== '')
          return sendError(
            res,
            new NodehostError('NH_ERR_ADMIN_RELOAD', `the configuration has errors; the last good one keeps serving: ${reloaded.configError}`),
          );
        return sendJson(res, 200, { reloaded: true });
      }
      case 'GET /metrics': {
        const text = await target.metrics();
        res.writeHead(200, { 'Content-Type': METRICS_CONTENT_TYPE, 'Content-Length': Buffer.byteLength(text) });
        res.end(text);
        return;
      }
    }
    const isKnownPath = KNOWN_PATHS.has(url.pathname);
    if (isKnownPath) {
      res.setHeader('Allow', url.pathname.startsWith('/v1/apps/') || url.pathname === '/v1/reload' ? 'POST' : 'GET');
      return sendError(res, new NodehostError('NH_ERR_ADMIN_METHOD', `${req.method} is not allowed on ${url.pathname}`));
    }
    return sendError(res, new NodehostError('NH_ERR_ADMIN_NOT_FOUND', `no admin API path ${url.pathname} (see docs/admin.md)`));
  }
}

const KNOWN_PATHS = new Set(['/v1/server', '/v1/sites', '/v1/apps', '/v1/apps/recycle', '/v1/apps/stop', '/v1/apps/start', '/v1/reload', '/metrics']);

function noSuchApp(app: string): NodehostError {
  return new NodehostError('NH_ERR_ADMIN_NO_APP', `no running application has the URL ${app}`);
}

function isAuthorized(header: string | undefined, expected: Buffer): boolean {
  if (header === undefined) return false;
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** describeApp is one application of /v1/apps, with its processes read from /proc. */
function describeApp(status: HostStatus, app: AppStatus): Record<string, unknown> {
  const now = Date.now();
  const url = app.script.startsWith(status.root) ? app.script.slice(status.root.length).replace(/^\/*/, '/') : app.script;
  const state = app.isFailing
    ? 'failing'
    : app.isRecycling
      ? 'recycling'
      : app.isIdle
        ? 'idle'
        : app.ready > 0
          ? 'serving'
          : app.generation === 0
            ? 'starting'
            : 'starting';
  return {
    site: status.site,
    url,
    script: app.script,
    ...(app.frontDoor === undefined ? {} : { frontDoor: app.frontDoor, frontDoorPid: app.frontDoorPid }),
    state,
    generation: app.generation,
    recycles: app.recycles,
    isRecycling: app.isRecycling,
    drainingGenerations: app.draining,
    workers: app.workers,
    pids: app.pids,
    ready: app.ready,
    active: app.active,
    total: app.total,
    waiting: app.waiting + app.waitingForGeneration,
    restarts: app.restarts,
    restartsByReason: app.restartsByReason,
    lastExitCode: app.lastExitCode,
    lastExitSignal: app.lastExitSignal,
    lastRecycleError: app.lastRecycleError,
    configError: app.configError,
    processes: app.processes.map((p) => ({
      pid: p.pid,
      state: p.state,
      uptimeMs: p.spawnedAt === 0 || p.pid === 0 ? 0 : now - p.spawnedAt,
      ...readProcessUsage(p.pid),
      active: p.active,
      total: p.total,
    })),
  };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store' });
  res.end(text);
}

function sendError(res: ServerResponse, error: NodehostError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, ERRORS[error.code as ErrorCode].status, { error: { code: error.code, message: error.message } });
}
