import { connect, type Socket } from 'node:net';
import { responseEnd } from './http-response.js';

/**
 * keep-alive-pool.ts holds many idle keep-alive HTTP/1.1 connections open from this process
 * (raw `net` sockets, one request at a time on each), for the memory driver
 * (bench/connections.ts). A server may close a connection that stays idle longer than its
 * keep-alive timeout (nodehost: 5 s), so the pool sends a request on every connection in
 * rounds, and a connection the server closed counts as a failure.
 */

/** PoolOptions: where to connect and what to ask. */
export interface PoolOptions {
  readonly port: number;
  readonly path: string;
  readonly expectBody: string;
  /** requestTimeoutMs bounds one connect or one request (default 10 s). */
  readonly requestTimeoutMs?: number;
}

/** KeepAliveConnection is one socket that answers one request at a time. */
class KeepAliveConnection {
  readonly #socket: Socket;
  #buffer: Buffer = Buffer.alloc(0);
  #waiter: ((err: Error | undefined) => void) | undefined;
  #failure: Error | undefined;
  /** answeredAt is when the last response arrived (epoch ms), 0 before the first. */
  answeredAt = 0;
  readonly #request: Buffer;
  readonly #expectBody: string;
  readonly #timeoutMs: number;

  constructor(options: PoolOptions, request: Buffer) {
    this.#request = request;
    this.#expectBody = options.expectBody;
    this.#timeoutMs = options.requestTimeoutMs ?? 10_000;
    // A request written before the connection is up waits in the socket's buffer, so the
    // first request's timeout also bounds the connect.
    this.#socket = connect({ port: options.port, host: '127.0.0.1', noDelay: true });
    this.#socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#socket.on('error', (err) => this.#fail(err));
    this.#socket.on('close', () => this.#fail(new Error('closed by the server')));
  }

  get isOpen(): boolean {
    return this.#failure === undefined;
  }

  /** failure is why the connection ended, or undefined while it is open. */
  get failure(): Error | undefined {
    return this.#failure;
  }

  /** get sends one request and resolves once its whole response has arrived and was right. */
  async get(): Promise<void> {
    if (this.#failure) throw this.#failure;
    if (this.#waiter) throw new Error('a request is already in flight');
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.#waiter = (err) => (err ? reject(err) : resolve());
        timer = setTimeout(() => this.#fail(new Error(`no response within ${this.#timeoutMs} ms`)), this.#timeoutMs);
        this.#socket.write(this.#request);
      });
    } finally {
      clearTimeout(timer);
    }
  }

  destroy(): void {
    this.#failure ??= new Error('closed by the client');
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    let end: ReturnType<typeof responseEnd>;
    try {
      end = responseEnd(this.#buffer);
    } catch (err) {
      this.#fail(err as Error);
      return;
    }
    if (end === undefined) return;
    const body = this.#buffer.subarray(end.bytes - Buffer.byteLength(this.#expectBody), end.bytes).toString();
    this.#buffer = this.#buffer.subarray(end.bytes);
    if (end.status !== 200 || body !== this.#expectBody) {
      this.#fail(new Error(`HTTP ${end.status} ${JSON.stringify(body.slice(0, 60))}`));
      return;
    }
    if (end.isClosing) {
      this.#fail(new Error('the server answered Connection: close'));
      return;
    }
    this.answeredAt = Date.now();
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.(undefined);
  }

  #fail(err: Error): void {
    if (this.#failure === undefined) {
      this.#failure = err;
      this.#socket.destroy();
    }
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.(this.#failure);
  }
}

/** KeepAlivePool opens connections in batches and keeps them alive with rounds of requests. */
export class KeepAlivePool {
  readonly #options: PoolOptions;
  readonly #request: Buffer;
  readonly #connections: KeepAliveConnection[] = [];

  constructor(options: PoolOptions) {
    this.#options = options;
    this.#request = Buffer.from(`GET ${options.path} HTTP/1.1\r\nHost: 127.0.0.1:${options.port}\r\n\r\n`);
  }

  /** open is how many connections are open and answered their last request. */
  get open(): number {
    return this.#connections.filter((c) => c.isOpen).length;
  }

  /** failures maps why connections ended (before `close()`) to how many ended so. */
  failures(): Map<string, number> {
    const byReason = new Map<string, number>();
    for (const c of this.#connections) {
      if (c.failure) byReason.set(c.failure.message, (byReason.get(c.failure.message) ?? 0) + 1);
    }
    return byReason;
  }

  /**
   * grow opens up to `count` more connections, `batch` at a time, each answering one
   * request, and stops at `deadline` (epoch ms). Between batches it runs `between` (a round
   * on the older connections, so none stays idle past the server's keep-alive timeout).
   */
  async grow(count: number, batch: number, deadline: number, between: () => Promise<void>): Promise<void> {
    for (let started = 0; started < count && Date.now() < deadline; ) {
      const n = Math.min(batch, count - started);
      started += n;
      const fresh = Array.from({ length: n }, () => new KeepAliveConnection(this.#options, this.#request));
      this.#connections.push(...fresh);
      await Promise.all(fresh.map((c) => settle(c.get())));
      await between();
    }
  }

  /**
   * round sends one request on every open connection that has been idle for `idleMs` or
   * more, at most `inFlight` at a time, and resolves when all have answered (or failed).
   * A round is bounded: each request has its own timeout.
   */
  async round(inFlight: number, idleMs = 0): Promise<void> {
    const idleSince = Date.now() - idleMs;
    const queue = this.#connections.filter((c) => c.isOpen && c.answeredAt <= idleSince);
    let next = 0;
    const lane = async (): Promise<void> => {
      while (next < queue.length) await settle(queue[next++]!.get());
    };
    await Promise.all(Array.from({ length: Math.min(inFlight, queue.length) }, lane));
  }

  /** close destroys every connection. */
  close(): void {
    for (const c of this.#connections) c.destroy();
  }
}

/** settle waits for a request; its failure is kept on the connection (see `failures`). */
async function settle(work: Promise<void>): Promise<void> {
  try {
    await work;
  } catch {
    // counted by KeepAlivePool.failures()
  }
}
