/**
 * Front doors (`hostProcesses` > 1 in nodehost.yml, or `serve --host-processes`): `serve` runs
 * as a node `cluster` primary that forks N front-door processes. Each front door is a whole
 * NodehostServer, as `serve` runs with one process, listening on the address the primary shares
 * with them (SCHED_NONE: the kernel hands each accepted connection to one of them). Each front
 * door owns its share of every application's workers (front-door-share.ts), so a worker only
 * ever gets requests from one dispatcher and maxConcurrentRequestsPerProcess stays exact.
 *
 * The primary serves no request: it owns the control socket and relays over cluster IPC.
 *
 * ```
 *   primary ──{status|recycle, id}──▶ every front door ──{reply, id, result}──▶ primary (merged)
 *   front door ──{recycle-signal, script}──▶ primary ──{recycle-script, script}──▶ every front door
 *   front door ──{listening, url, root}──▶ primary    (once all have: the `listening` line)
 *   SIGHUP, a change to nodehost.yml (the primary watches it), POST /v1/reload
 *          ▶ primary ──{call reload}──▶ every front door (each re-reads nodehost.yml and web.config)
 *   SIGTERM/SIGINT ▶ primary ──{shutdown}──▶ every front door: close() as today, exit 0;
 *                    the primary exits 0 once they all have
 *
 * The primary is the service's main process, so it alone speaks to systemd (NOTIFY_SOCKET):
 * READY=1 once every front door listens, RELOADING=1 … READY=1 around each reload, STOPPING=1.
 *   a front door that exits otherwise is replaced (with backoff when it keeps dying)
 * ```
 */
import cluster, { type Worker as ClusterWorker } from 'node:cluster';
import { resolve } from 'node:path';
import type { AdminTarget, AppStatus, HostStatus, Readiness, RecycledApp } from '../control/admin-api.js';
import { ControlServer, type AdminListenerOptions } from '../control/control-server.js';
import { NodehostError } from '../errors.js';
import { startUpTuning } from '../start-up-tuning.js';
import { mergeMetrics, type MetricsJson } from '../control/metrics.js';
import { controlPaths } from '../control/paths.js';
import { effectiveConfig, type EffectiveConfig } from '../config/check.js';
import type { HostEvent } from '../host-log.js';
import type { FrontDoor } from '../iisnode/front-door-share.js';
import { watchHostFile, type HostFileWatch } from './host-file-watch.js';
import { NodehostServer, type ServerOptions } from './server.js';

/** The variable that tells a forked process which front door it is (`<index>/<count>`); removed at once so workers do not inherit it. */
const FRONT_DOOR_ENV = 'NODEHOST_FRONT_DOOR';
/** How long the primary waits for a front door's status before reporting it as not answering. */
const STATUS_TIMEOUT_MS = 10_000;
const REPLACE_MIN_MS = 100;
const REPLACE_MAX_MS = 10_000;
/** A front door that ran this long resets the replacement backoff. */
const STABLE_MS = 10_000;

/** The admin API operations a front door answers for the primary (a NodehostServer method each). */
type FrontDoorCall = 'stop' | 'startApp' | 'reload' | 'metricsJson' | 'readiness' | 'events';

/** Messages from the primary to a front door. */
type ToFrontDoor =
  | { readonly type: 'status'; readonly id: number }
  | { readonly type: 'recycle'; readonly id: number; readonly app?: string }
  | { readonly type: 'recycle-script'; readonly script: string }
  | { readonly type: 'call'; readonly id: number; readonly call: FrontDoorCall; readonly app?: string }
  | { readonly type: 'shutdown' };

/** Messages from a front door to the primary. */
type FromFrontDoor =
  | { readonly type: 'listening'; readonly url: string; readonly root: string }
  | { readonly type: 'reply'; readonly id: number; readonly result?: unknown; readonly error?: string }
  | { readonly type: 'recycle-signal'; readonly script: string };

/** isFrontDoorProcess tells whether this process was forked as a front door. */
export function isFrontDoorProcess(): boolean {
  return cluster.isWorker && process.env[FRONT_DOOR_ENV] !== undefined;
}

/**
 * serveFrontDoors runs this process's part: the primary (forks `count` front doors, prints
 * `banner(url, root)` once they all listen, serves the control socket) or, in a forked process,
 * one front door built from `options`. Rejects when the front door cannot listen.
 */
export async function serveFrontDoors(
  count: number,
  options: ServerOptions,
  banner: (url: string, root: string) => string,
  admin?: AdminListenerOptions,
): Promise<void> {
  if (isFrontDoorProcess()) {
    const [index, of] = process.env[FRONT_DOOR_ENV]!.split('/').map(Number) as [number, number];
    delete process.env[FRONT_DOOR_ENV];
    await runFrontDoor({ index, count: of }, options);
    return;
  }
  new FrontDoors(count, options, banner, admin).start();
}

async function runFrontDoor(frontDoor: FrontDoor, options: ServerOptions): Promise<void> {
  const send = (message: FromFrontDoor) => {
    if (process.connected) process.send!(message);
  };
  // The primary watches nodehost.yml and asks for each reload, and tells systemd: not the front door.
  const server = new NodehostServer({
    ...options,
    hostConfigFile: undefined,
    notifier: undefined,
    frontDoor,
    onRecycleSignal: (script) => send({ type: 'recycle-signal', script }),
  });
  const url = await server.start();
  let isClosing = false;
  const shutDown = () => {
    if (isClosing) return;
    isClosing = true;
    server.close().then(
      () => process.exit(0),
      (err) => {
        options.log.error('shutdown failed', { frontDoor: frontDoor.index, err });
        process.exit(1);
      },
    );
  };
  process.on('message', (message: ToFrontDoor) => {
    switch (message.type) {
      case 'status':
        send({ type: 'reply', id: message.id, result: server.status() });
        return;
      case 'recycle':
        server.recycle(message.app).then(
          (result) => send({ type: 'reply', id: message.id, result }),
          (err: Error) => send({ type: 'reply', id: message.id, error: err.message }),
        );
        return;
      case 'recycle-script':
        void server.recycleScript(message.script, 'recycle signal');
        return;
      case 'call':
        callServer(server, message.call, message.app).then(
          (result) => send({ type: 'reply', id: message.id, result }),
          (err: Error) => send({ type: 'reply', id: message.id, error: err.message }),
        );
        return;
      case 'shutdown':
        shutDown();
        return;
    }
  });
  // Ctrl-C reaches the whole process group: the primary decides, and sends `shutdown`.
  process.on('SIGINT', () => undefined);
  // The primary relays reloads (a SIGHUP to the process group would otherwise end the front door).
  process.on('SIGHUP', () => undefined);
  process.on('SIGTERM', shutDown);
  await server.preload();
  send({ type: 'listening', url, root: server.site.root });
  startUpTuning.end({ compactHeap: true });
}

async function callServer(server: NodehostServer, call: FrontDoorCall, app: string | undefined): Promise<unknown> {
  switch (call) {
    case 'stop':
      return server.stop(app);
    case 'startApp':
      return server.startApp(app ?? '/');
    case 'reload':
      return server.reload();
    case 'metricsJson':
      return server.metricsJson();
    case 'readiness':
      return server.readiness();
    case 'events':
      return server.events();
  }
}

/** PendingReply is one question to a front door awaiting its answer. */
interface PendingReply {
  readonly index: number;
  readonly resolve: (reply: { result?: unknown; error?: string }) => void;
}

/** FrontDoors is the cluster primary: it keeps `count` front doors running and speaks for them on the control socket. */
class FrontDoors implements AdminTarget {
  readonly #count: number;
  readonly #options: ServerOptions;
  readonly #banner: (url: string, root: string) => string;
  readonly #doors: (ClusterWorker | undefined)[];
  /** Front doors that listen and answer IPC (a replacement is asked nothing until it listens). */
  readonly #isServing: boolean[];
  readonly #startedAt: number[];
  readonly #backoffMs: number[];
  readonly #replaceTimers = new Set<NodeJS.Timeout>();
  readonly #pending = new Map<number, PendingReply>();
  #nextId = 1;
  #listening = 0;
  /** The first front door's URL, once every front door listens. */
  #url = '';
  #isReady = false;
  #isShuttingDown = false;
  #exitCode = 0;
  #control: ControlServer | undefined = undefined;
  readonly #admin: AdminListenerOptions | undefined;
  #hostFileWatch: HostFileWatch | undefined;
  /** The STOPPING=1 message once it is on its way; the exit waits for it. */
  #isStopNotified: Promise<void> = Promise.resolve();

  constructor(count: number, options: ServerOptions, banner: (url: string, root: string) => string, admin?: AdminListenerOptions) {
    this.#admin = admin;
    this.#count = count;
    this.#options = options;
    this.#banner = banner;
    this.#doors = new Array<ClusterWorker | undefined>(count).fill(undefined);
    this.#startedAt = new Array<number>(count).fill(0);
    this.#isServing = new Array<boolean>(count).fill(false);
    this.#backoffMs = new Array<number>(count).fill(0);
  }

  start(): void {
    // Each front door accepts on the shared socket itself; the default (round robin in the
    // primary) would put every connection through this process.
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    for (let index = 0; index < this.#count; index++) this.#fork(index);
    process.on('SIGTERM', () => this.#shutDown('SIGTERM'));
    process.on('SIGINT', () => this.#shutDown('SIGINT'));
    // SIGHUP re-reads the configuration in every front door (each re-reads nodehost.yml itself).
    process.on('SIGHUP', () => {
      if (this.#isShuttingDown) return;
      this.#options.log.info('config reload requested', { signal: 'SIGHUP' });
      void this.reload();
    });
  }

  async stop(app?: string): Promise<string[]> {
    const replies = await this.#call('stop', app);
    return [...new Set(replies.flatMap((result) => result as string[]))];
  }

  async startApp(app: string): Promise<{ script: string; error?: string }> {
    const replies = (await this.#call('startApp', app)) as { script: string; error?: string }[];
    return replies.find((reply) => reply.error !== undefined) ?? replies[0] ?? { script: app, error: 'no front door is serving' };
  }

  /** reload asks every front door to re-read the configuration, between RELOADING=1 and READY=1 to systemd. */
  async reload(): Promise<{ configError: string }> {
    const notifier = this.#isShuttingDown ? undefined : this.#options.notifier;
    void notifier?.reloading('reloading the configuration');
    try {
      const replies = (await this.#call('reload')) as { configError: string }[];
      return replies.find((reply) => reply.configError !== '') ?? { configError: '' };
    } finally {
      void notifier?.ready(`listening on ${this.#url} (${this.#count} host processes)`);
    }
  }

  async metrics(): Promise<string> {
    return mergeMetrics((await this.#call('metricsJson', undefined, STATUS_TIMEOUT_MS)) as MetricsJson[]);
  }

  /** startDebug: a debug session pins one worker, which several front doors cannot share (as for the debug URLs). */
  async startDebug(): Promise<NodehostError> {
    return new NodehostError('NH_ERR_APP_NEEDS_ONE_HOST_PROCESS', `the debugger needs hostProcesses 1; this server runs ${this.#count}.`);
  }

  /** stopDebug: there is never a session to stop with several front doors. */
  async stopDebug(): Promise<boolean> {
    return false;
  }

  /** appConfig reads the files itself: every front door serves the same site. */
  appConfig(appUrl: string): EffectiveConfig | undefined {
    return effectiveConfig(resolve(this.#options.siteRoot), decodeURIComponent(appUrl.split('?')[0]!).replace(/^\/*/, '/'));
  }

  /** events merges the primary's recent events with every front door's, by time, the last 200. */
  async events(): Promise<HostEvent[]> {
    const replies = (await this.#call('events', undefined, STATUS_TIMEOUT_MS)) as HostEvent[][];
    return [...this.#options.log.recent(), ...replies.flat()].sort((a, b) => (a.time < b.time ? -1 : a.time > b.time ? 1 : 0)).slice(-200);
  }

  async readiness(): Promise<Readiness> {
    if (this.#isShuttingDown) return { isReady: false, reason: 'shutting down' };
    if (!this.#isServing.every(Boolean)) return { isReady: false, reason: 'a front door is not listening' };
    const replies = (await this.#call('readiness', undefined, STATUS_TIMEOUT_MS)) as Readiness[];
    return replies.find((reply) => !reply.isReady) ?? { isReady: true, reason: '' };
  }

  /** call asks every serving front door to run one NodehostServer operation; rejects with the first error. */
  async #call(call: FrontDoorCall, app?: string, timeoutMs = 0): Promise<unknown[]> {
    const replies = await this.#askAll((id) => ({ type: 'call', id, call, ...(app === undefined ? {} : { app }) }), timeoutMs);
    const failed = replies.find(({ reply }) => reply.error !== undefined);
    if (failed !== undefined) throw new Error(`front door ${failed.index}: ${failed.reply.error}`);
    return replies.map(({ reply }) => reply.result);
  }

  async status(): Promise<HostStatus> {
    const replies = await this.#askAll((id) => ({ type: 'status', id }), STATUS_TIMEOUT_MS);
    const doors = replies.map(({ index, pid, reply }) => ({ index, pid, ...(reply.error === undefined ? {} : { error: reply.error }) }));
    const answers = replies
      .filter(({ reply }) => reply.error === undefined)
      .map(({ index, pid, reply }) => ({ index, pid, status: reply.result as ReturnType<NodehostServer['status']> }));
    const first = answers[0]?.status;
    // One entry per application and front door: its workers belong to that front door.
    const apps: AppStatus[] = answers.flatMap(({ index, pid, status }) => status.apps.map((app) => ({ ...app, frontDoor: index, frontDoorPid: pid })));
    // Every front door serves the same sites and bindings: the first one's describe them.
    const sites = first?.sites?.map((site) => ({ ...site, apps: apps.filter((app) => app.site === site.site) }));
    return {
      site: first?.site ?? '',
      root: first?.root ?? '',
      url: first?.url ?? '',
      bindings: first?.bindings ?? [],
      configError: answers.find((a) => a.status.configError !== '')?.status.configError ?? '',
      hostProcesses: this.#count,
      frontDoors: doors,
      apps,
      ...(sites === undefined ? {} : { sites }),
    };
  }

  async recycle(app?: string): Promise<RecycledApp[]> {
    const replies = await this.#askAll((id) => ({ type: 'recycle', id, ...(app === undefined ? {} : { app }) }), 0);
    // One line per application: it serves when it serves in every front door that runs it.
    const merged = new Map<string, { isServing: boolean; generation: number; errors: string[] }>();
    for (const { index, reply } of replies) {
      if (reply.error !== undefined) throw new Error(`front door ${index}: ${reply.error}`);
      for (const { script, result } of reply.result as RecycledApp[]) {
        const entry = merged.get(script) ?? { isServing: true, generation: 0, errors: [] };
        entry.isServing &&= result.isServing;
        entry.generation = Math.max(entry.generation, result.generation);
        if (result.error !== undefined) entry.errors.push(`front door ${index}: ${result.error}`);
        merged.set(script, entry);
      }
    }
    return [...merged].map(([script, { isServing, generation, errors }]) => ({
      script,
      result: { isServing, generation, ...(errors.length === 0 ? {} : { error: errors.join('; ') }) },
    }));
  }

  #fork(index: number): void {
    const door = cluster.fork({ [FRONT_DOOR_ENV]: `${index}/${this.#count}` });
    this.#doors[index] = door;
    this.#startedAt[index] = Date.now();
    door.on('message', (message: FromFrontDoor) => this.#onMessage(index, door, message));
    door.on('exit', (code, signal) => this.#onExit(index, door, code, signal));
  }

  #onMessage(index: number, door: ClusterWorker, message: FromFrontDoor): void {
    switch (message.type) {
      case 'listening':
        this.#isServing[index] = true;
        this.#options.log.info('front door started', { index, pid: door.process.pid, of: this.#count });
        if (!this.#isReady && ++this.#listening === this.#count) void this.#onAllListening(message.url, message.root);
        return;
      case 'reply': {
        const pending = this.#pending.get(message.id);
        this.#pending.delete(message.id);
        pending?.resolve(message);
        return;
      }
      case 'recycle-signal':
        this.#options.log.info('recycle signal relayed', { script: message.script, from: index });
        for (const other of this.#doors) send(other, { type: 'recycle-script', script: message.script });
        return;
    }
  }

  async #onAllListening(url: string, root: string): Promise<void> {
    this.#isReady = true;
    this.#url = url;
    process.stdout.write(`${this.#banner(url, root)}\n`);
    // The control API (DESIGN §5): `nodehost recycle|status` find the primary through the pid file.
    const control = new ControlServer(controlPaths(root), this, this.#admin);
    this.#control = control;
    try {
      await control.start(root, url);
      process.stdout.write(`control socket ${control.paths.socketPath} (pid file ${control.paths.pidFile})\n`);
    } catch (err) {
      this.#options.log.warn('control socket unavailable', { path: control.paths.socketPath, err });
    }
    try {
      await control.startAdminListener();
      if (control.adminUrl !== '') process.stdout.write(`admin listener ${control.adminUrl}\n`);
    } catch (err) {
      this.#options.log.error('admin listener unavailable', { err: (err as Error).message });
      this.#exitCode = 1;
      this.#shutDown('admin listener failure');
      return;
    }
    if (this.#isShuttingDown) {
      control.close();
      return;
    }
    const file = this.#options.hostConfigFile;
    if (file !== undefined) this.#hostFileWatch = watchHostFile(file, () => void this.reload(), this.#options.log);
    void this.#options.notifier?.ready(`listening on ${url} (${this.#count} host processes)`);
    startUpTuning.end({ compactHeap: true });
  }

  #onExit(index: number, door: ClusterWorker, code: number | null, signal: string | null): void {
    if (this.#doors[index] === door) this.#doors[index] = undefined;
    this.#isServing[index] = false;
    for (const [id, pending] of this.#pending) {
      if (pending.index !== index) continue;
      this.#pending.delete(id);
      pending.resolve({ error: 'the front door exited before it answered' });
    }
    if (this.#isShuttingDown) {
      // A front door still starting is ended by SIGTERM (see #shutDown): that is no failure.
      if (code !== 0 && signal !== 'SIGTERM') this.#exitCode = 1;
      this.#exitWhenAllGone();
      return;
    }
    if (!this.#isReady) {
      // A front door that cannot start (its listen failed, said on stderr) fails the whole start.
      this.#options.log.error('front door failed to start', { index, pid: door.process.pid, code, signal });
      this.#exitCode = 1;
      this.#shutDown('startup failure');
      return;
    }
    const ranMs = Date.now() - this.#startedAt[index]!;
    const delay = ranMs >= STABLE_MS ? REPLACE_MIN_MS : Math.min(REPLACE_MAX_MS, Math.max(REPLACE_MIN_MS, this.#backoffMs[index]! * 2));
    this.#backoffMs[index] = delay;
    this.#options.log.error('front door exited', { index, pid: door.process.pid, code, signal, replaceInMs: delay });
    const timer = setTimeout(() => {
      this.#replaceTimers.delete(timer);
      if (!this.#isShuttingDown) this.#fork(index);
    }, delay);
    this.#replaceTimers.add(timer);
  }

  #shutDown(reason: string): void {
    if (this.#isShuttingDown) return;
    this.#isShuttingDown = true;
    this.#options.log.info('shutting down', { signal: reason, frontDoors: this.#count });
    this.#hostFileWatch?.close();
    this.#isStopNotified = this.#options.notifier?.stopping(`stopping (${reason})`) ?? Promise.resolve();
    // The admin API stays up while the front doors drain: /ready answers 503 meanwhile.
    for (const timer of this.#replaceTimers) clearTimeout(timer);
    this.#replaceTimers.clear();
    this.#doors.forEach((door, index) => {
      // One still starting does not listen to messages yet; before it does, SIGTERM just ends it (it has no workers).
      if (this.#isServing[index]) send(door, { type: 'shutdown' });
      else door?.process.kill('SIGTERM');
    });
    this.#exitWhenAllGone();
  }

  #exitWhenAllGone(): void {
    if (!this.#doors.every((door) => door === undefined)) return;
    this.#control?.close();
    // The notifier never rejects.
    void this.#isStopNotified.then(() => process.exit(this.#exitCode));
  }

  /** askAll sends one question to every live front door and resolves with every answer (a timeout of 0 waits as long as it takes). */
  #askAll(build: (id: number) => ToFrontDoor, timeoutMs: number): Promise<{ index: number; pid: number; reply: { result?: unknown; error?: string } }[]> {
    const asked = this.#doors.flatMap((door, index) => (door === undefined || !this.#isServing[index] ? [] : [{ door, index }]));
    return Promise.all(
      asked.map(
        ({ door, index }) =>
          new Promise<{ index: number; pid: number; reply: { result?: unknown; error?: string } }>((resolve) => {
            const id = this.#nextId++;
            const pid = door.process.pid ?? 0;
            let timer: NodeJS.Timeout | undefined;
            this.#pending.set(id, {
              index,
              resolve: (reply) => {
                if (timer !== undefined) clearTimeout(timer);
                resolve({ index, pid, reply });
              },
            });
            if (timeoutMs > 0) {
              timer = setTimeout(() => {
                const pending = this.#pending.get(id);
                this.#pending.delete(id);
                pending?.resolve({ error: `no answer within ${timeoutMs} ms` });
              }, timeoutMs);
              timer.unref();
            }
            send(door, build(id));
          }),
      ),
    );
  }
}

function send(door: ClusterWorker | undefined, message: ToFrontDoor): void {
  if (door?.isConnected()) door.send(message);
}
