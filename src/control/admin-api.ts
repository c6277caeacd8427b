/**
 * AdminApi is the admin API of a running nodehost (DESIGN §5, docs/admin.md): HTTP/1.1 with
 * JSON bodies, served on the control socket (file permissions decide who may use it) and on
 * the optional TCP admin listener (a bearer token when configured).
 *
 * ```
 *   GET  /                    the dashboard (index.html, dashboard.css, dashboard.js; no token needed)
 *   GET  /v1/server           version, pid, uptime, host processes, automatic certificates
 *   GET  /v1/sites            every site: name, root, bindings (as configured, and where each listens), configuration error
 *   GET  /v1/apps             applications: generations, processes (pid, state, uptime, RSS, CPU, requests), restarts
 *   GET  /v1/apps/config      ?app=/hello.js  effective iisnode settings, each with the file:line it comes from
 *   POST /v1/apps/recycle     ?app=/hello.js  answered once each new generation serves or failed
 *   POST /v1/apps/stop        ?app=…          answered once the workers are gone
 *   POST /v1/apps/start       ?app=/hello.js  starts an application without a request
 *   POST /v1/apps/debug       ?app=…[&brk=1]  starts its debug session: { port, isBreak, pid, debugUrl }
 *   POST /v1/apps/debug/stop  ?app=…          ends it: { stopped: true|false }
 *   POST /v1/reload           re-reads every web.config now
 *   GET  /v1/events           recent host events, oldest first
 *   GET  /metrics             Prometheus text
 *   GET  /ready, /live        health
 *   errors: { "error": { "code": "NH_ERR_…", "message": "…" } } with the code's status
 * ```
 *
 * On the TCP listener, which a browser can reach, two rules keep other web pages out: a POST
 * must carry `Authorization` or `X-Nodehost-Admin` (headers a page of another origin cannot send
 * without a CORS preflight, which this API never approves), and without a token the Host header
 * must be loopback (a DNS-rebinding page names its own host).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import { ERRORS, NodehostError, type ErrorCode } from '../errors.js';
import type { EffectiveConfig } from '../config/check.js';
import type { HostEvent } from '../host-log.js';
import type { ApplicationStats } from '../iisnode/application.js';
import { version } from '../version.js';
import { Dashboard } from './dashboard.js';
import { METRICS_CONTENT_TYPE } from './metrics.js';
import { isLoopbackAddress } from '../http/is-loopback-address.js';
import { readProcessUsage } from './proc-stat.js';

/** AppStatus is one application in one host process; `logUrl` is the URL path of its log folder on the site ('' when it has none there). */
export type AppStatus = ApplicationStats & { readonly frontDoor?: number; readonly frontDoorPid?: number; readonly logUrl?: string; readonly site?: string };

/** BindingStatus is one binding of a site: as configured (`https://shop.example.test:8443`) and the address its port listens on (`https://127.0.0.1:8443/`; '' before it listens). */
export interface BindingStatus {
  readonly binding: string;
  readonly listening: string;
}

/** HostStatus is what the target reports: the site and its applications (each front door's, when several). */
export interface HostStatus {
  readonly site: string;
  readonly root: string;
  readonly configError: string;
  /** The site's listener URL ('' before it listens). */
  readonly url?: string;
  /** The site's bindings, in the order of the configuration. */
  readonly bindings?: readonly BindingStatus[];
  readonly hostProcesses?: number;
  readonly frontDoors?: readonly { readonly index: number; readonly pid: number; readonly error?: string }[];
  readonly apps: readonly AppStatus[];
  /** With several sites, each one's own status (its apps' `site` names it). */
  readonly sites?: readonly HostStatus[] | undefined;
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

/** DebugStarted is a started debug session: the inspector's port on 127.0.0.1 and the debuggee's pid. */
export interface DebugStarted {
  readonly port: number;
  readonly isBreak: boolean;
  readonly pid: number;
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
  /** startDebug starts the debug session of the running application at URL `app` (undefined: none runs there). */
  startDebug(app: string, isBreak: boolean): Promise<DebugStarted | NodehostError | undefined>;
  /** stopDebug ends it; resolves with whether there was one (undefined: no application runs there). */
  stopDebug(app: string): Promise<boolean | undefined>;
  /** appConfig is the effective configuration of the site's application at URL `app` (what `nodehost check` prints), or undefined. */
  appConfig(app: string): EffectiveConfig | undefined;
  /** events are the recent host events, oldest first (of every host process). */
  events(): readonly HostEvent[] | Promise<readonly HostEvent[]>;
}

/** AdminApiOptions: a token, when set, is required as `Authorization: Bearer <token>` on every path but /live, /ready and the dashboard's files. */
export interface AdminApiOptions {
  readonly token?: string | undefined;
  /** A TCP listener, reachable by browsers: the cross-site rules apply (the control socket is not). */
  readonly isTcp?: boolean;
}

const START_TIME = Date.now();

/** AdminApi: `handle(req, res)` answers one request; it never throws. */
export class AdminApi {
  readonly #target: AdminTarget;
  readonly #dashboard = new Dashboard();

  constructor(target: AdminTarget) {
    this.#target = target;
  }

  /** handler returns the request listener of one listener (the token applies to that listener only). */
  handler(options: AdminApiOptions = {}): (req: IncomingMessage, res: ServerResponse) => void {
    const token = options.token === undefined || options.token === '' ? undefined : Buffer.from(`Bearer ${options.token}`);
    const isTcp = options.isTcp === true;
    return (req, res) => {
      void this.#handle(req, res, token, isTcp).catch((err: unknown) => {
        sendError(res, new NodehostError('NH_ERR_INTERNAL', (err as Error)?.message ?? String(err)));
      });
    };
  }

  async #handle(req: IncomingMessage, res: ServerResponse, token: Buffer | undefined, isTcp: boolean): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin');
    const route = `${req.method} ${url.pathname}`;
    // Health probes carry no secret: orchestrators probe them without credentials, under any Host.
    if (url.pathname === '/live') return sendJson(res, 200, { live: true });
    if (url.pathname === '/ready') {
      const ready = await this.#target.readiness();
      return sendJson(res, ready.isReady ? 200 : 503, ready.isReady ? { ready: true } : { ready: false, reason: ready.reason });
    }
    if (isTcp && token === undefined && !isLoopbackHost(req.headers.host)) {
      return sendError(
        res,
        new NodehostError(
          'NH_ERR_ADMIN_HOST',
          `Host ${JSON.stringify(req.headers.host ?? '')} is not loopback; without admin.token this listener answers loopback names only`,
        ),
      );
    }
    if ((req.method === 'GET' || req.method === 'HEAD') && this.#dashboard.serve(url.pathname, req.method, res)) return;
    if (token !== undefined && !isAuthorized(req.headers.authorization, token)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      return sendError(
        res,
        new NodehostError('NH_ERR_ADMIN_UNAUTHORIZED', 'this admin listener needs Authorization: Bearer <token> (admin.token in nodehost.yml)'),
      );
    }
    if (isTcp && req.method === 'POST' && req.headers.authorization === undefined && req.headers['x-nodehost-admin'] === undefined) {
      return sendError(
        res,
        new NodehostError(
          'NH_ERR_ADMIN_CROSS_SITE',
          'a POST on the admin listener needs an Authorization or X-Nodehost-Admin header (refused as a possible cross-site request)',
        ),
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
          sites: (status.sites ?? [status]).map((site) => ({
            name: site.site,
            root: site.root,
            url: site.url ?? '',
            bindings: site.bindings ?? [],
            configError: site.configError,
            apps: new Set(site.apps.map((a) => a.script)).size,
          })),
        });
      }
      case 'GET /v1/events':
        return sendJson(res, 200, { events: await target.events() });
      case 'GET /v1/apps': {
        const status = await target.status();
        return sendJson(res, 200, { apps: status.apps.map((entry) => describeApp(status, entry)) });
      }
      case 'GET /v1/apps/config': {
        if (app === undefined)
          return sendError(res, new NodehostError('NH_ERR_ADMIN_BAD_REQUEST', 'config needs ?app=<URL path of the entry script>, e.g. ?app=/hello.js'));
        const config = target.appConfig(app);
        if (config === undefined) return sendError(res, new NodehostError('NH_ERR_ADMIN_NO_APP', `the site has no application at ${app}`));
        return sendJson(res, 200, config);
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
      case 'POST /v1/apps/debug':
      case 'POST /v1/apps/debug/stop': {
        if (app === undefined)
          return sendError(res, new NodehostError('NH_ERR_ADMIN_BAD_REQUEST', 'debug needs ?app=<URL path of the entry script>, e.g. ?app=/hello.js'));
        if (url.pathname === '/v1/apps/debug/stop') {
          const stopped = await target.stopDebug(app);
          return stopped === undefined ? sendError(res, noSuchApp(app)) : sendJson(res, 200, { stopped });
        }
        const started = await target.startDebug(app, url.searchParams.has('brk'));
        if (started === undefined) return sendError(res, noSuchApp(app));
        if (started instanceof NodehostError) return sendError(res, started);
        return sendJson(res, 200, { ...started, debugUrl: `${app.replace(/\/+$/, '')}/debug/` });
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
      res.setHeader('Allow', (url.pathname.startsWith('/v1/apps/') && url.pathname !== '/v1/apps/config') || url.pathname === '/v1/reload' ? 'POST' : 'GET');
      return sendError(res, new NodehostError('NH_ERR_ADMIN_METHOD', `${req.method} is not allowed on ${url.pathname}`));
    }
    return sendError(res, new NodehostError('NH_ERR_ADMIN_NOT_FOUND', `no admin API path ${url.pathname} (see docs/admin.md)`));
  }
}

const KNOWN_PATHS = new Set([
  '/v1/server',
  '/v1/sites',
  '/v1/events',
  '/v1/apps/config',
  '/v1/apps/debug',
  '/v1/apps/debug/stop',
  '/v1/apps',
  '/v1/apps/recycle',
  '/v1/apps/stop',
  '/v1/apps/start',
  '/v1/reload',
  '/metrics',
]);

function noSuchApp(app: string): NodehostError {
  return new NodehostError('NH_ERR_ADMIN_NO_APP', `no running application has the URL ${app}`);
}

/** isLoopbackHost tells whether a Host header names this machine: localhost, 127.x.y.z or [::1], with any port. */
function isLoopbackHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return name.toLowerCase() === 'localhost' || isLoopbackAddress(name);
}

function isAuthorized(header: string | undefined, expected: Buffer): boolean {
  if (header === undefined) return false;
  const given = Buffer.from(header);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** describeApp is one application of /v1/apps, with its processes read from /proc. */
function describeApp(all: HostStatus, app: AppStatus): Record<string, unknown> {
  const now = Date.now();
  const status = all.sites?.find((site) => site.site === app.site) ?? all;
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
    logUrl: app.logUrl ?? '',
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
