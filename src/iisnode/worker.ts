/**
 * Worker is one node process of an application (STYLE 8, bottom layer): it spawns the
 * process, drains its stdout and stderr, decides readiness (its Unix socket accepts a
 * connection), counts the requests on it, and stops it (graceful, SIGTERM, SIGKILL). It knows
 * nothing about how request bytes reach the process (transport.ts) or how workers are chosen
 * (worker-pool.ts). Its state lives in a WorkerStateMachine; process events only record facts.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { NodehostError, type ErrorCode } from '../errors.js';
import type { HostLog } from '../host-log.js';
import { version } from '../version.js';
import type { NodeCommand } from './command-line.js';
import { Heartbeat, type HealthProblem } from './heartbeat.js';
import { OutputTail, STDERR_TAIL_BYTES } from './output-tail.js';
import { WorkerStateMachine, type WorkerState } from './worker-state.js';

/** First readiness poll delay; it doubles up to namedPipeConnectionRetryDelay. */
const FIRST_POLL_DELAY_MS = 10;
/** How long to wait for the stdio pipes to close after the process exited (a grandchild may hold them). */
const STDIO_CLOSE_WAIT_MS = 1000;
/** After SIGTERM, the process gets at least this long before SIGKILL. */
const MIN_TERM_GRACE_MS = 1000;

/**
 * HOST_LINK_PRELOAD is required into every worker (`node --require`): it answers the heartbeat
 * and ends the worker when the host is gone. It is found beside this module, in src/ and in
 * dist/ (the build copies it).
 */
export const HOST_LINK_PRELOAD: string = fileURLToPath(new URL('./host-link-preload.cjs', import.meta.url));

/** OutputStream names the captured stream of a worker. */
export type OutputStream = 'stdout' | 'stderr';

/**
 * OutputHook receives every chunk a worker writes, in order, per stream. It is the seam for
 * log files (DESIGN §4); it must not throw and must not keep `chunk` past the call unless it
 * copies it.
 */
export type OutputHook = (worker: Worker, stream: OutputStream, chunk: Buffer) => void;

/**
 * WorkerError is a NodehostError about one worker, carrying the tail of that worker's stderr
 * at the time of the failure (for the developer error page) and its pid.
 */
export class WorkerError extends NodehostError {
  readonly stderrTail: string;
  readonly pid: number;

  constructor(code: ErrorCode, message: string, stderrTail: string, pid: number, cause?: unknown) {
    super(code, message, cause === undefined ? {} : { cause });
    this.stderrTail = stderrTail;
    this.pid = pid;
  }
}

/** WorkerOwner is told about the facts that change what the pool may do with a worker. */
export interface WorkerOwner {
  /** onWorkerReady: the worker's socket accepted a connection; it may take requests. */
  onWorkerReady(worker: Worker): void;
  /** onWorkerFailed: the worker never became ready (exited, not listening in time, or spawn failed). */
  onWorkerFailed(worker: Worker, error: WorkerError): void;
  /** onWorkerExit: a worker that had been ready (or was stopping) has exited. */
  onWorkerExit(worker: Worker): void;
  /** onWorkerUnhealthy: a ready worker missed its heartbeat or is over its heap budget (once per worker). */
  onWorkerUnhealthy(worker: Worker, problem: HealthProblem, detail: string): void;
}

/** WorkerHealth are the heartbeat limits of a worker (0: off; both 0: no heartbeat). */
export interface WorkerHealth {
  readonly maxEventLoopBlockMs: number;
  readonly maxHeapBytes: number;
}

/** WorkerOptions is everything a worker needs; the pool builds it. */
export interface WorkerOptions {
  readonly id: number;
  readonly scriptPath: string;
  /** Unix socket path given as PORT (at most 107 bytes). */
  readonly socketPath: string;
  readonly command: NodeCommand;
  /** Complete environment of the process (see buildWorkerEnv). */
  readonly env: NodeJS.ProcessEnv;
  /** Total readiness budget: maxNamedPipeConnectionRetry × namedPipeConnectionRetryDelay ms. */
  readonly readinessBudgetMs: number;
  /** Longest delay between readiness polls: namedPipeConnectionRetryDelay ms. */
  readonly maxPollDelayMs: number;
  readonly log: HostLog;
  readonly owner: WorkerOwner;
  readonly onOutput?: OutputHook | undefined;
  readonly health?: WorkerHealth | undefined;
}

/**
 * buildWorkerEnv returns the environment of a worker: the host's environment, then
 * appSettings in order (the last duplicate wins), then nodehost's own variables, which win
 * over both (spec 2.2 and tjanczuk/iisnode#528): PORT, IISNODE_VERSION, and NODE_ENV when
 * `node_env` is non-empty and not the literal `%node_env%`.
 */
export function buildWorkerEnv(
  hostEnv: NodeJS.ProcessEnv,
  appSettings: readonly (readonly [string, string])[],
  socketPath: string,
  nodeEnv: string,
): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...hostEnv };
  for (const [key, value] of appSettings) {
    if (key !== '') env[key] = value;
  }
  env.PORT = socketPath;
  env.IISNODE_VERSION = version;
  if (nodeEnv !== '' && nodeEnv.toLowerCase() !== '%node_env%') env.NODE_ENV = nodeEnv;
  return env;
}

/**
 * Worker is one node process. Lifecycle: `start()` spawns it (the constructor has no side
 * effects); the owner hears `onWorkerReady`, then `onWorkerExit`, or `onWorkerFailed` if it
 * never became ready. `beginRequest`/`endRequest` count active requests. `close(graceMs)` and
 * `destroy()` are idempotent; `exited` resolves once the process is gone (or was never spawned).
 */
export class Worker {
  readonly id: number;
  readonly scriptPath: string;
  readonly socketPath: string;
  readonly machine: WorkerStateMachine;
  /** The last 64 KiB the process wrote to stderr. */
  readonly stderrTail = new OutputTail();
  /**
   * stderrLog, set by log capture when the process writes to its stderr log file, reads the
   * last `maxBytes` of that file (bytes not yet on disk included); failure pages prefer it to
   * `stderrTail`.
   */
  stderrLog: ((maxBytes: number) => string) | undefined = undefined;
  /** Requests dispatched to this worker whose response has not finished. */
  active = 0;
  /** Requests ever dispatched to this worker. */
  total = 0;
  /** Date.now() at spawn and at readiness (0 until then). */
  spawnedAt = 0;
  readyAt = 0;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  /** Why the worker never became ready, when it failed. */
  failure: WorkerError | undefined = undefined;
  /** isStopRequested tells whether the host asked the worker to stop (`close()` or `destroy()`), as opposed to a crash. */
  isStopRequested = false;
  /** exited resolves when the process is gone; it never rejects. */
  readonly exited: Promise<void>;
  /**
   * canTakeSockets tells whether the worker's preload said it takes handed-off client
   * sockets (websocket/handoff-preload.cjs) and the IPC channel is still open.
   */
  get canTakeSockets(): boolean {
    return this.#isHandoffReady && this.#child?.connected === true;
  }
  /** Upgraded connections handed to this worker and still open (websocket/handoff.ts keeps it). */
  handedOff = 0;
  /** onLinkMessage hears the worker's IPC messages other than the heartbeat's (the hand-off's), with any handle sent along. */
  onLinkMessage: ((worker: Worker, message: unknown, handle: unknown) => void) | undefined = undefined;

  readonly #options: WorkerOptions;
  #resolveExited!: () => void;
  #child: ChildProcess | undefined = undefined;
  #spawnError: Error | undefined = undefined;
  #pollDelay = FIRST_POLL_DELAY_MS;
  #readyDeadline = 0;
  #stopDeadline = 0;
  #pollTimer: NodeJS.Timeout | undefined = undefined;
  #probe: net.Socket | undefined = undefined;
  #stdioTimer: NodeJS.Timeout | undefined = undefined;
  #stopTimer: NodeJS.Timeout | undefined = undefined;
  #heartbeat: Heartbeat | undefined = undefined;
  #isHandoffReady = false;

  constructor(options: WorkerOptions) {
    this.#options = options;
    this.id = options.id;
    this.scriptPath = options.scriptPath;
    this.socketPath = options.socketPath;
    this.machine = new WorkerStateMachine(options.id, options.scriptPath);
    this.exited = new Promise<void>((resolve) => {
      this.#resolveExited = resolve;
    });
  }

  /** state is the current lifecycle state. */
  get state(): WorkerState {
    return this.machine.state;
  }

  /** isReady tells whether the worker may take new requests. */
  get isReady(): boolean {
    return this.machine.state === 'ready';
  }

  /** pid of the process, 0 when it was never spawned. */
  get pid(): number {
    return this.#child?.pid ?? 0;
  }

  /**
   * start spawns the process (cwd = the script's folder, stdio ignore/pipe/pipe) and begins
   * polling its socket. Call once.
   */
  start(): void {
    const { command, args } = this.#options.command;
    removeStaleSocket(this.socketPath);
    this.spawnedAt = Date.now();
    this.#readyDeadline = this.spawnedAt + Math.max(0, this.#options.readinessBudgetMs);
    let child: ChildProcess;
    try {
      // The IPC channel is the host link: heartbeats, and the worker's way to notice a lost host.
      child = spawn(command, ['--require', HOST_LINK_PRELOAD, ...args, this.scriptPath], {
        cwd: path.dirname(this.scriptPath),
        env: this.#options.env,
        stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
        windowsHide: true,
      });
    } catch (err) {
      // spawn throws synchronously only for invalid arguments (e.g. a NUL byte in the command line).
      this.#spawnError = err as Error;
      this.#finish();
      return;
    }
    this.#child = child;
    this.machine.pid = child.pid ?? 0;
    child.stdout?.on('data', (chunk: Buffer) => this.#onOutput('stdout', chunk));
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrTail.append(chunk);
      this.#onOutput('stderr', chunk);
    });
    child.on('error', (err) => this.#onChildError(err));
    child.on('message', (message, handle) => this.#onMessage(message, handle));
    // The app may close its end; sends then fail quietly (the heartbeat sees no answer).
    child.on('disconnect', () => undefined);
    child.on('exit', (code, signal) => this.#onChildExit(code, signal));
    child.on('close', (code, signal) => this.#onChildClose(code, signal));
    if (child.pid !== undefined) {
      trackChild(child);
      this.#options.log.info('worker spawned', { script: this.scriptPath, worker: this.id, pid: child.pid, command });
      this.#schedulePoll();
    }
  }

  /**
   * send writes `message` (and `handle`, a socket to hand over) on the IPC channel; `onSent`
   * hears when the write is done (a handle waits for the worker's receipt of the previous one).
   * False when the channel is closed or the write failed at once; a handle not sent stays the caller's.
   */
  send(message: object, handle?: net.Socket, onSent: (error: Error | null) => void = ignoreSendResult): boolean {
    const child = this.#child;
    if (child === undefined || !child.connected) return false;
    try {
      child.send(message, handle, {}, onSent);
      return true;
    } catch {
      return false;
    }
  }

  /** beginRequest counts a request dispatched to this worker. */
  beginRequest(): void {
    this.active++;
    this.total++;
  }

  /** endRequest counts a finished request; a draining worker stops when its last one ends. */
  endRequest(): void {
    this.active--;
    if (this.active === 0 && this.machine.state === 'draining') this.#terminate('drained');
  }

  /**
   * close stops the worker gracefully: it takes no new requests; once its active requests
   * reach 0 it gets SIGTERM, and SIGKILL when `graceMs` has passed (0: SIGKILL at once).
   * Resolves when the process is gone. Idempotent.
   */
  close(graceMs: number): Promise<void> {
    this.isStopRequested = true;
    this.#heartbeat?.stop();
    const state = this.machine.state;
    // Any other state is already on its way out (stopping, being killed, or gone).
    if (state !== 'starting' && state !== 'ready') return this.exited;
    this.#stopDeadline = Date.now() + Math.max(0, graceMs);
    if (state === 'starting') {
      this.machine.transition('stopping', 'closed while starting');
      this.#cancelPoll();
      this.#signal('SIGTERM');
      this.#armKill(MIN_TERM_GRACE_MS);
    } else if (state === 'ready') {
      if (graceMs <= 0) {
        this.machine.transition('stopping', 'closed (no grace period)');
        this.#signal('SIGKILL');
      } else if (this.active === 0) {
        this.#terminate('closed while idle');
      } else {
        this.machine.transition('draining', `closed with ${this.active} active requests`);
        this.#stopTimer = setTimeout(() => this.#onGraceExpired(), graceMs);
      }
    }
    return this.exited;
  }

  /** destroy kills the process at once (SIGKILL); requests on it fail. Idempotent. */
  destroy(): void {
    this.isStopRequested = true;
    this.#heartbeat?.stop();
    if (this.machine.isFinal) return;
    this.#cancelPoll();
    const state = this.machine.state;
    if (state === 'starting' || state === 'ready' || state === 'draining') this.machine.transition('stopping', 'destroyed');
    this.#signal('SIGKILL');
    if (this.#child === undefined) this.#finish();
  }

  /**
   * output returns the process's stdout or stderr pipe (undefined before spawn), so that log
   * capture can pause it when the disk is slower than the process (back-pressure) and hear
   * its end.
   */
  output(stream: OutputStream): Readable | undefined {
    return this.#child?.[stream] ?? undefined;
  }

  /** stderrText is the last 64 KiB of stderr: from the log file when there is one, else from memory. */
  stderrText(): string {
    return this.stderrLog?.(STDERR_TAIL_BYTES) ?? this.stderrTail.text();
  }

  #onMessage(message: unknown, handle: unknown): void {
    const kind = (message as { nodehost?: unknown } | null)?.nodehost;
    if (kind === 'pong') this.#heartbeat?.onMessage(message);
    else if (kind === 'handoff-ready') this.#isHandoffReady = true;
    else if (kind !== undefined) this.onLinkMessage?.(this, message, handle);
  }

  #onOutput(stream: OutputStream, chunk: Buffer): void {
    const hook = this.#options.onOutput;
    if (hook !== undefined) hook(this, stream, chunk);
  }

  #schedulePoll(): void {
    if (this.machine.state !== 'starting') return;
    const now = Date.now();
    if (now >= this.#readyDeadline) {
      this.#failNotListening();
      return;
    }
    const delay = Math.min(this.#pollDelay, this.#readyDeadline - now);
    this.#pollDelay = Math.min(this.#pollDelay * 2, Math.max(1, this.#options.maxPollDelayMs));
    this.#pollTimer = setTimeout(() => this.#poll(), delay);
  }

  #poll(): void {
    this.#pollTimer = undefined;
    if (this.machine.state !== 'starting') return;
    const probe = net.connect(this.socketPath);
    this.#probe = probe;
    probe.once('connect', () => {
      probe.destroy();
      this.#probe = undefined;
      this.#onConnected();
    });
    probe.once('error', () => {
      probe.destroy();
      this.#probe = undefined;
      this.#schedulePoll();
    });
  }

  #cancelPoll(): void {
    if (this.#pollTimer !== undefined) clearTimeout(this.#pollTimer);
    this.#pollTimer = undefined;
    this.#probe?.destroy();
    this.#probe = undefined;
  }

  #onConnected(): void {
    if (this.machine.state !== 'starting') return;
    this.readyAt = Date.now();
    this.machine.transition('ready', 'socket accepted a connection');
    this.#options.log.info('worker ready', { script: this.scriptPath, worker: this.id, pid: this.pid, ms: this.readyAt - this.spawnedAt });
    this.#startHeartbeat();
    this.#options.owner.onWorkerReady(this);
  }

  /** startHeartbeat watches the ready worker when maxEventLoopBlockMs or maxHeapMB is set (heartbeat.ts). */
  #startHeartbeat(): void {
    const health = this.#options.health;
    const child = this.#child;
    if (health === undefined || child === undefined || !Heartbeat.isNeeded(health.maxEventLoopBlockMs, health.maxHeapBytes)) return;
    this.#heartbeat = new Heartbeat({
      maxBlockMs: health.maxEventLoopBlockMs,
      maxHeapBytes: health.maxHeapBytes,
      send: (message) => child.connected && child.send(message as object, () => undefined),
      onUnhealthy: (problem, detail) => {
        if (this.machine.state !== 'ready') return;
        this.#options.log.warn('worker unhealthy', { script: this.scriptPath, worker: this.id, pid: this.pid, problem, detail });
        this.#options.owner.onWorkerUnhealthy(this, problem, detail);
      },
    });
    this.#heartbeat.start();
  }

  #failNotListening(): void {
    const budget = this.#options.readinessBudgetMs;
    this.machine.transition('unresponsive', 'not listening within the readiness budget');
    this.#options.log.warn('worker not listening', { script: this.scriptPath, worker: this.id, pid: this.pid, ms: budget });
    // The owner hears of the failure in #finish, once the process is gone and its stderr drained,
    // so the error carries everything the app wrote (e.g. "listening on port 3000").
    this.#signal('SIGKILL');
  }

  #onChildError(err: Error): void {
    if (this.#child?.pid === undefined) {
      // The process was never created (ENOENT, EACCES): 'close' follows; make sure we finish even if it does not.
      this.#spawnError = err;
      this.#armStdioWait();
    } else {
      this.#options.log.warn('worker signal failed', { script: this.scriptPath, worker: this.id, pid: this.pid, err });
    }
  }

  #onChildExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.exitCode = code;
    this.signalCode = signal;
    this.#enterExiting(signal !== null ? `killed by ${signal}` : `exited with code ${code}`);
    // 'close' comes once stdout and stderr are drained, so the stderr tail is complete.
    this.#armStdioWait();
  }

  #onChildClose(code: number | null, signal: NodeJS.Signals | null): void {
    if (this.machine.state !== 'exiting' && !this.machine.isFinal) {
      this.exitCode = code;
      this.signalCode = signal;
    }
    this.#finish();
  }

  /** enterExiting records that the process is gone (or was never created); its pipes may still hold output. */
  #enterExiting(reason: string): void {
    this.#cancelPoll();
    this.#heartbeat?.stop();
    if (this.machine.canMoveTo('exiting')) this.machine.transition('exiting', reason);
  }

  #armStdioWait(): void {
    if (this.#stdioTimer === undefined && !this.machine.isFinal) {
      this.#stdioTimer = setTimeout(() => this.#finish(), STDIO_CLOSE_WAIT_MS);
    }
  }

  /** finish records that the process and its pipes are gone (once) and tells the owner. */
  #finish(): void {
    if (this.machine.isFinal) return;
    this.#enterExiting(this.#spawnError !== undefined ? 'could not be spawned' : 'output pipes closed');
    if (this.#stdioTimer !== undefined) clearTimeout(this.#stdioTimer);
    if (this.#stopTimer !== undefined) clearTimeout(this.#stopTimer);
    this.#stdioTimer = undefined;
    this.#stopTimer = undefined;
    if (this.#child !== undefined) untrackChild(this.#child);
    removeStaleSocket(this.socketPath);
    // The state the worker was in when its process ended decides the verdict.
    const state = this.machine.previous;
    if (this.#spawnError !== undefined) {
      const err = this.#spawnError as NodeJS.ErrnoException;
      const command = this.#options.command.command;
      const error = new WorkerError(
        'NH_ERR_WORKER_SPAWN',
        `Unable to start the node process "${command}" (${err.code ?? err.message}); check nodeProcessCommandLine.`,
        '',
        0,
        err,
      );
      this.failure = error;
      this.#options.log.error('worker spawn failed', { script: this.scriptPath, worker: this.id, command, err });
      if (state === 'starting') {
        this.machine.transition('failed', `spawn failed: ${err.code ?? err.message}`);
        this.#options.owner.onWorkerFailed(this, error);
      } else {
        this.machine.transition('exited', 'spawn failed while stopping');
      }
    } else {
      this.#options.log.info('worker exited', {
        script: this.scriptPath,
        worker: this.id,
        pid: this.pid,
        code: this.exitCode,
        signal: this.signalCode,
      });
      if (state === 'starting') {
        const how = this.signalCode !== null ? `was killed by ${this.signalCode}` : `exited with code ${this.exitCode}`;
        const error = new WorkerError(
          'NH_ERR_WORKER_EXITED_BEFORE_READY',
          `The node process (pid ${this.pid}) ${how} before it accepted a connection on PORT.`,
          this.stderrText(),
          this.pid,
        );
        this.failure = error;
        this.machine.transition('failed', how);
        this.#options.owner.onWorkerFailed(this, error);
      } else if (state === 'unresponsive') {
        const error = new WorkerError(
          'NH_ERR_WORKER_NOT_LISTENING',
          `The node process (pid ${this.pid}) did not accept a connection on PORT within ${this.#options.readinessBudgetMs} ms; make sure the app listens on process.env.PORT.`,
          this.stderrText(),
          this.pid,
        );
        this.failure = error;
        this.machine.transition('failed', 'not listening');
        this.#options.owner.onWorkerFailed(this, error);
      } else {
        this.machine.transition('exited', state === 'stopping' ? 'stopped' : 'crashed');
        this.#options.owner.onWorkerExit(this);
      }
    }
    this.#resolveExited();
  }

  #onGraceExpired(): void {
    this.#stopTimer = undefined;
    if (this.machine.state !== 'draining') return;
    // Handed-off WebSockets are closed by the worker itself (1001, on this word); it gets a
    // moment to write the close frames before the kill, and stops as soon as they are closed.
    if (this.handedOff > 0 && this.send({ nodehost: 'handoff-close', code: 1001, reason: 'going away' })) {
      this.#stopTimer = setTimeout(() => {
        this.#stopTimer = undefined;
        if (this.machine.state !== 'draining') return;
        this.machine.transition('stopping', `grace period over with ${this.active} active requests`);
        this.#signal('SIGKILL');
      }, MIN_TERM_GRACE_MS);
      return;
    }
    // The grace period is over and requests are still running: they are cut off (spec 2.7).
    this.machine.transition('stopping', `grace period over with ${this.active} active requests`);
    this.#signal('SIGKILL');
  }

  #terminate(reason: string): void {
    if (this.#stopTimer !== undefined) clearTimeout(this.#stopTimer);
    this.#stopTimer = undefined;
    this.machine.transition('stopping', reason);
    this.#signal('SIGTERM');
    this.#armKill(Math.max(this.#stopDeadline - Date.now(), MIN_TERM_GRACE_MS));
  }

  #armKill(ms: number): void {
    if (this.#stopTimer !== undefined) clearTimeout(this.#stopTimer);
    this.#stopTimer = setTimeout(() => {
      this.#stopTimer = undefined;
      this.#signal('SIGKILL');
    }, ms);
  }

  #signal(signal: NodeJS.Signals): void {
    const child = this.#child;
    const state = this.machine.state;
    if (child === undefined || state === 'exiting' || this.machine.isFinal || child.exitCode !== null || child.signalCode !== null) return;
    try {
      child.kill(signal);
    } catch {
      // The process is already gone; 'exit' reports it.
    }
  }
}

function ignoreSendResult(): void {}

function removeStaleSocket(socketPath: string): void {
  try {
    fs.unlinkSync(socketPath);
  } catch {
    // Not there (the normal case) or not removable; spawn/listen will report the latter.
  }
}

/*
 * Children of a Linux process outlive it (there is no job object as on Windows), so the
 * host kills the workers it still has when it exits normally or through an uncaught error.
 */
const liveChildren = new Set<ChildProcess>();
let isExitHookInstalled = false;

function trackChild(child: ChildProcess): void {
  liveChildren.add(child);
  if (!isExitHookInstalled) {
    isExitHookInstalled = true;
    process.once('exit', killLiveChildren);
  }
}

function untrackChild(child: ChildProcess): void {
  liveChildren.delete(child);
}

function killLiveChildren(): void {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone.
    }
  }
  liveChildren.clear();
}
