/**
 * DebuggerHost serves the debugger URLs of every application (spec 2.11, DESIGN §2):
 *
 * ```
 *  GET <app>/debug            301 → <app>/debug/
 *  GET <app>/debug/[?brk]     start (or reuse) a session: the app switches to ONE worker run
 *                             with --inspect[-brk]=127.0.0.1:<port>; page with the DevTools link
 *  WS  <app>/debug/ws         tunnel to the inspector's WebSocket (found through /json/list)
 *  GET <app>/debug/?kill      end the session; the app returns to its normal generation
 *  debuggee exits or crashes  ends the session the same way
 * ```
 *
 * Security default (DESIGN §4): loopback clients only, unless the site authenticated the
 * client. The inspector port stays on 127.0.0.1; only the tunnel reaches it.
 */
import http from 'node:http';
import { NodehostError } from '../../errors.js';
import type { IisnodeSettings } from '../../config/types.js';
import type { HostLog } from '../../host-log.js';
import type { RequestContext } from '../../http/request-context.js';
import { fail } from '../../http/error-outcome.js';
import { closeTunnels, openTunnel } from '../websocket/tunnel.js';
import { renderDebugPage } from './debug-page.js';
import type { DebugRequest } from './debug-url.js';
import { PortAllocator, parsePortRange } from './port-range.js';

/** KILLED_TEXT and NOT_RUNNING_TEXT are iisnode's exact `?kill` answers. */
export const KILLED_TEXT = 'The debugger and debugee processes have been killed.';
export const NOT_RUNNING_TEXT = 'The debugger for the application is not running.';

/** How long the tunnel keeps asking a fresh inspector for its target list. */
const INSPECTOR_WAIT_MS = 10_000;
const INSPECTOR_POLL_MS = 100;
/** A debuggee waits this long to become ready (it may sit on a breakpoint before listening). */
const DEBUGGEE_READY_BUDGET_MS = 3_600_000;

/** DebuggeeHandle is the debug generation of an application. */
export interface DebuggeeHandle {
  /** pid of the debugged worker (0 until spawned). */
  readonly pid: number;
  /** leave ends debug mode: the debuggee is killed and a normal generation takes over. Idempotent. */
  leave(): void;
}

/**
 * DebuggableApp is what the debugger needs of an application: its settings, and a way to
 * switch it to one worker run with other settings (the debug generation) and back.
 */
export interface DebuggableApp {
  readonly scriptPath: string;
  readonly settings: Readonly<IisnodeSettings>;
  /**
   * enterDebug makes a generation of one worker from `settings` take every new request (the
   * current generation drains); `onGone` is called once if that worker exits or fails.
   */
  enterDebug(settings: Readonly<IisnodeSettings>, onGone: () => void): DebuggeeHandle;
}

/** DebugSession is one running debuggee. */
class DebugSession {
  readonly port: number;
  readonly isBreak: boolean;
  readonly handle: DebuggeeHandle;
  isEnded = false;
  constructor(port: number, isBreak: boolean, handle: DebuggeeHandle) {
    this.port = port;
    this.isBreak = isBreak;
    this.handle = handle;
  }
}

/** DebuggerHost: `claim(ctx, settings)` says whether a request is a debugger URL; `handle` serves it; `close` ends every session. */
export class DebuggerHost {
  readonly #log: HostLog;
  readonly #ports = new PortAllocator();
  readonly #sessions = new Map<string, DebugSession>();

  constructor(log: HostLog) {
    this.#log = log;
  }

  /** handle serves a claimed debugger request. Never rejects. */
  async handle(ctx: RequestContext, app: DebuggableApp, request: DebugRequest): Promise<void> {
    const settings = app.settings;
    if (!ctx.maySeeInternals) {
      this.#fail(
        ctx,
        settings,
        new NodehostError('NH_ERR_DEBUG_FORBIDDEN', 'The debugger is available to clients on this machine, or to clients the site authenticates.'),
      );
      return;
    }
    switch (request.kind) {
      case 'redirect':
        ctx.status = 301;
        ctx.res.writeHead(301, { Location: request.location, 'Content-Length': 0 });
        ctx.res.end();
        return;
      case 'kill':
        sendText(ctx, this.#end(app.scriptPath, 'killed by ?kill') ? KILLED_TEXT : NOT_RUNNING_TEXT);
        return;
      case 'ws':
        await this.#tunnel(ctx, app);
        return;
      case 'page':
        await this.#page(ctx, app, request.isBreak);
        return;
    }
  }

  /**
   * startSession starts (or returns) the debug session of `app` without a request (the admin
   * API's debug start): its port, whether it breaks on the first line, and the debuggee's pid.
   */
  async startSession(app: DebuggableApp, isBreak: boolean): Promise<{ port: number; isBreak: boolean; pid: number } | NodehostError> {
    if (!app.settings.debuggingEnabled) return new NodehostError('NH_ERR_DEBUG_DISABLED', `debuggingEnabled is false for ${app.scriptPath}.`);
    const session = this.#sessions.get(app.scriptPath) ?? (await this.#start(app, isBreak));
    return session instanceof NodehostError ? session : { port: session.port, isBreak: session.isBreak, pid: session.handle.pid };
  }

  /** endSession ends the debug session of the application at `scriptPath` (as `?kill` does); returns whether there was one. */
  endSession(scriptPath: string): boolean {
    return this.#end(scriptPath, 'stopped through the admin API');
  }

  /** close ends every session (the apps are closing anyway). */
  close(): void {
    for (const script of [...this.#sessions.keys()]) this.#end(script, 'host closing');
  }

  async #page(ctx: RequestContext, app: DebuggableApp, isBreak: boolean): Promise<void> {
    let session = this.#sessions.get(app.scriptPath);
    if (session !== undefined && session.isBreak !== isBreak) {
      this.#end(app.scriptPath, 'restarted with other flags');
      session = undefined;
    }
    if (session === undefined) {
      const started = await this.#start(app, isBreak);
      if (started instanceof NodehostError) {
        this.#fail(ctx, app.settings, started);
        return;
      }
      session = started;
    }
    const scriptUrl = ctx.scriptUrl;
    const html = renderDebugPage({
      host: ctx.req.headers.host ?? `${ctx.localAddress}:${ctx.localPort}`,
      isHttps: ctx.isHttps,
      debugPath: `${scriptUrl}/${app.settings.debuggerPathSegment}`,
      scriptPath: app.scriptPath,
      port: session.port,
      isBreak: session.isBreak,
      pid: session.handle.pid,
    });
    ctx.status = 200;
    ctx.res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8', 'Cache-Control': 'no-cache', 'Content-Length': Buffer.byteLength(html) });
    ctx.res.end(ctx.req.method === 'HEAD' ? undefined : html);
  }

  async #start(app: DebuggableApp, isBreak: boolean): Promise<DebugSession | NodehostError> {
    const settings = app.settings;
    const range = parsePortRange(settings.debuggerPortRange);
    if (range === undefined) {
      return new NodehostError('NH_ERR_DEBUG_NO_PORT', `debuggerPortRange "${settings.debuggerPortRange}" is not N or N-M with 1025 <= N <= M <= 65535.`);
    }
    const port = await this.#ports.next(range);
    if (port === undefined)
      return new NodehostError('NH_ERR_DEBUG_NO_PORT', `No port of debuggerPortRange ${settings.debuggerPortRange} is free on 127.0.0.1.`);
    // Another request may have started a session while the ports were tested.
    const existing = this.#sessions.get(app.scriptPath);
    if (existing !== undefined) return existing;
    const flag = `${isBreak ? '--inspect-brk' : '--inspect'}=127.0.0.1:${port}`;
    const debugSettings: IisnodeSettings = {
      ...settings,
      nodeProcessCountPerApplication: 1,
      nodeProcessCommandLine: withNodeFlag(settings.nodeProcessCommandLine, flag),
      maxNamedPipeConnectionRetry: Math.ceil(DEBUGGEE_READY_BUDGET_MS / Math.max(1, settings.namedPipeConnectionRetryDelay)),
      // A debuggee paused at a breakpoint does not answer the heartbeat; it must not be replaced for that.
      maxEventLoopBlockMs: 0,
    };
    let session: DebugSession | undefined;
    const handle = app.enterDebug(debugSettings, () => {
      if (session !== undefined && !session.isEnded) this.#end(app.scriptPath, 'debuggee exited');
    });
    session = new DebugSession(port, isBreak, handle);
    this.#sessions.set(app.scriptPath, session);
    this.#log.info('debug session started', { script: app.scriptPath, port, brk: isBreak, pid: handle.pid });
    return session;
  }

  /** end stops the app's session, if any; returns whether there was one. */
  #end(scriptPath: string, reason: string): boolean {
    const session = this.#sessions.get(scriptPath);
    if (session === undefined) return false;
    this.#sessions.delete(scriptPath);
    session.isEnded = true;
    closeTunnels(session, 'debug session ended');
    session.handle.leave();
    this.#log.info('debug session ended', { script: scriptPath, port: session.port, reason });
    return true;
  }

  async #tunnel(ctx: RequestContext, app: DebuggableApp): Promise<void> {
    const upgrade = ctx.upgrade;
    const session = this.#sessions.get(app.scriptPath);
    if (upgrade === undefined || session === undefined) {
      ctx.status = upgrade === undefined ? 400 : 404;
      sendText(ctx, upgrade === undefined ? 'Connect to this URL with a WebSocket (a DevTools client).' : NOT_RUNNING_TEXT, ctx.status);
      return;
    }
    const target = await findInspectorTarget(session.port, INSPECTOR_WAIT_MS);
    if (target === undefined || session.isEnded) {
      this.#fail(
        ctx,
        app.settings,
        new NodehostError('NH_ERR_DEBUG_INSPECTOR', `The inspector of the debugged process (127.0.0.1:${session.port}) did not answer.`),
      );
      return;
    }
    const headers: string[] = [];
    const raw = ctx.req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i].toLowerCase();
      // node's inspector accepts only an IP or localhost as Host (DNS rebinding protection).
      if (name === 'host' || name === 'origin' || name === 'cookie') continue;
      headers.push(raw[i], raw[i + 1]);
    }
    headers.push('Host', `127.0.0.1:${session.port}`);
    await openTunnel(ctx, upgrade, {
      host: '127.0.0.1',
      port: session.port,
      method: 'GET',
      path: target,
      headers,
      maxHeadBytes: app.settings.maxRequestBufferSize,
      key: session,
      extraHeaders: [],
      onEnd: (error) => {
        if (error !== undefined) this.#fail(ctx, app.settings, new NodehostError('NH_ERR_DEBUG_INSPECTOR', error.message, { cause: error }));
      },
    });
  }

  #fail(ctx: RequestContext, settings: Readonly<IisnodeSettings>, error: NodehostError): void {
    this.#log.warn('debugger request failed', { url: ctx.rawUrl, code: error.code, message: error.message });
    ctx.sendError(fail(error, { worker: { devErrorsEnabled: settings.devErrorsEnabled, isProcessAssigned: false, stderrTail: '' } }));
  }
}

/**
 * withNodeFlag adds a node option to `nodeProcessCommandLine`, right after the executable. An
 * empty command line stands for the node running nodehost.
 */
export function withNodeFlag(commandLine: string, flag: string): string {
  if (commandLine.trim() === '') return `"${process.execPath}" ${flag}`;
  return `${commandLine} ${flag}`;
}

function sendText(ctx: RequestContext, text: string, status = 200): void {
  ctx.status = status;
  ctx.res.writeHead(status, { 'Content-Type': 'text/html', 'Cache-Control': 'no-cache', 'Content-Length': Buffer.byteLength(text) });
  ctx.res.end(ctx.req.method === 'HEAD' ? undefined : text);
}

/**
 * findInspectorTarget asks the inspector at 127.0.0.1:port for its targets (/json/list) and
 * returns the path of the first target's WebSocket URL, retrying while the process starts.
 */
async function findInspectorTarget(port: number, waitMs: number): Promise<string | undefined> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const path = await readTargetPath(port);
    if (path !== undefined || Date.now() >= deadline) return path;
    await new Promise((resolve) => setTimeout(resolve, INSPECTOR_POLL_MS));
  }
}

function readTargetPath(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/json/list', agent: false, timeout: 2000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => {
        try {
          const list = JSON.parse(body) as { webSocketDebuggerUrl?: string }[];
          const url = list.find((t) => typeof t.webSocketDebuggerUrl === 'string')?.webSocketDebuggerUrl;
          resolve(url === undefined ? undefined : new URL(url).pathname);
        } catch {
          resolve(undefined);
        }
      });
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy());
    req.on('error', () => resolve(undefined));
  });
}
