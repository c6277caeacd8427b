/**
 * Heartbeat watches one ready worker through its IPC channel (host-link-preload.cjs answers
 * from the worker's event loop): a ping not answered within `maxBlockMs` means the event loop
 * has been blocked that long; an answer carrying a used heap over `maxHeapBytes` means the heap
 * is over budget. Either is reported once through `onUnhealthy`, and the heartbeat stops.
 *
 * ```
 *   ping ──▶ (answer within maxBlockMs?) ── no ──▶ onUnhealthy('event-loop')
 *     ▲                  │ yes
 *     └── interval ◀── heap over budget? ── yes ──▶ onUnhealthy('heap')
 * ```
 *
 * One ping is outstanding at a time, so a slow worker is never flooded.
 */

/** HealthProblem names why a worker is replaced (the restart reason in status and metrics). */
export type HealthProblem = 'event-loop' | 'heap';

/** HeartbeatOptions: a limit of 0 is off; the heartbeat is not started when both are. */
export interface HeartbeatOptions {
  readonly maxBlockMs: number;
  readonly maxHeapBytes: number;
  /** Sends one message to the worker; false when the channel is closed. */
  readonly send: (message: unknown) => boolean;
  readonly onUnhealthy: (problem: HealthProblem, detail: string) => void;
}

/** Pings go out at most this often: the heap is read at least every second. */
const MAX_INTERVAL_MS = 1000;

/** PingMessage and PongMessage are the two messages of the heartbeat. */
interface PongMessage {
  readonly nodehost: 'pong';
  readonly seq: number;
  readonly heapUsed: number;
}

/** Heartbeat: `start()` sends the first ping, `onMessage(m)` takes the worker's messages, `stop()` is idempotent. */
export class Heartbeat {
  readonly #options: HeartbeatOptions;
  readonly #intervalMs: number;
  #seq = 0;
  #sentAt = 0;
  #timer: NodeJS.Timeout | undefined = undefined;
  #isStopped = false;

  constructor(options: HeartbeatOptions) {
    this.#options = options;
    this.#intervalMs = options.maxBlockMs > 0 ? Math.max(10, Math.min(MAX_INTERVAL_MS, Math.floor(options.maxBlockMs / 4))) : MAX_INTERVAL_MS;
  }

  /** isNeeded tells whether the settings ask for a heartbeat at all. */
  static isNeeded(maxBlockMs: number, maxHeapBytes: number): boolean {
    return maxBlockMs > 0 || maxHeapBytes > 0;
  }

  start(): void {
    if (!this.#isStopped && this.#timer === undefined) this.#ping();
  }

  stop(): void {
    this.#isStopped = true;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** onMessage takes any message of the worker; only the answer to the outstanding ping counts. */
  onMessage(message: unknown): void {
    if (this.#isStopped || !isPong(message) || message.seq !== this.#seq) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    const { maxHeapBytes } = this.#options;
    if (maxHeapBytes > 0 && message.heapUsed > maxHeapBytes) {
      this.#fail('heap', `heap ${Math.round(message.heapUsed / 1048576)} MB over maxHeapMB ${Math.round(maxHeapBytes / 1048576)}`);
      return;
    }
    this.#timer = setTimeout(() => this.#ping(), this.#intervalMs);
    this.#timer.unref();
  }

  #ping(): void {
    this.#timer = undefined;
    if (this.#isStopped) return;
    this.#seq++;
    this.#sentAt = Date.now();
    // A closed channel means the process is on its way out; its exit is reported elsewhere.
    if (!this.#options.send({ nodehost: 'ping', seq: this.#seq })) return;
    const { maxBlockMs } = this.#options;
    if (maxBlockMs > 0) {
      this.#timer = setTimeout(
        () => this.#fail('event-loop', `event loop blocked over ${Date.now() - this.#sentAt} ms (maxEventLoopBlockMs ${maxBlockMs})`),
        maxBlockMs,
      );
      this.#timer.unref();
    }
  }

  #fail(problem: HealthProblem, detail: string): void {
    this.stop();
    this.#options.onUnhealthy(problem, detail);
  }
}

function isPong(message: unknown): message is PongMessage {
  return typeof message === 'object' && message !== null && (message as { nodehost?: unknown }).nodehost === 'pong';
}
