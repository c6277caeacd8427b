/**
 * The connections to one worker: raw sockets over its Unix socket, each carrying one
 * HTTP/1.1 exchange at a time, and the pool of idle ones kept for reuse (STYLE 8: undici's
 * Client is the model). A connection knows nothing about HTTP beyond "busy" and "idle"; its
 * socket events go to a ConnectionHandler (the transport), with listeners installed once per
 * connection, never per request.
 *
 * Each socket reads into a buffer of its own, reused from read to read (net's `onread`), as
 * long as the handler says the bytes it was given went on to the kernel or were copied: a
 * 1 MiB response read into new 64 KiB buffers made the garbage collector run a full collection
 * every few responses. Bytes that stay referenced (a write the client's socket queued) keep
 * that buffer; the next read gets a new one. Response filters copy what they keep.
 *
 * ```
 *   acquire() ──▶ idle (LIFO, younger than its idle limit) ──▶ busy ──▶ release() ──▶ idle
 *        └─ none ──▶ connect() ─────────────────────────────┘              └─ pool full ▶ destroy
 *   an idle connection that closes leaves the pool at once; a sweep closes ones idle too long
 * ```
 */
import net from 'node:net';

/** ConnectionHandler hears the socket events of busy connections. */
export interface ConnectionHandler {
  /** onConnectionData returns true when `data` may still be referenced after it returns: the connection then reads into a new buffer. */
  onConnectionData(connection: UpstreamConnection, data: Buffer): boolean;
  onConnectionDrain(connection: UpstreamConnection): void;
  onConnectionClose(connection: UpstreamConnection, error: NodeJS.ErrnoException | undefined): void;
}

const kConnection = Symbol('nodehost.upstreamConnection');
type WithConnection = net.Socket & { [kConnection]: UpstreamConnection };

/** READ_BUFFER_BYTES is the size of each socket's read buffer: node's own read size for streams. */
const READ_BUFFER_BYTES = 64 * 1024;

/**
 * UpstreamConnection is one socket to a worker; fixed shape. `user` is the exchange it
 * carries (undefined while idle); `served` counts the responses it completed, so a failure on
 * a reused connection can be told from one on a fresh connection.
 */
export class UpstreamConnection {
  readonly socket: net.Socket;
  readonly pool: UpstreamPool;
  /** The exchange this connection carries now; the transport owns the field. */
  user: unknown = undefined;
  served = 0;
  /** performance-free clock: Date.now() when the connection went idle. */
  idleSince = 0;
  /** How long this connection may stay idle (the worker's Keep-Alive hint, less a margin, capped by the pool's limit). */
  idleLimitMs: number;
  isClosed = false;
  error: NodeJS.ErrnoException | undefined = undefined;
  /** Index in the pool's idle list, or -1 while busy. */
  idleIndex = -1;
  /** True when the bytes of the last read may still be referenced: the next read needs a new buffer. */
  isReadBufferHeld = false;
  #hasReadBuffer = false;

  constructor(pool: UpstreamPool) {
    this.pool = pool;
    this.idleLimitMs = pool.maxIdleMs;
    pool.open++;
    // net calls the read callback on the socket (one shared function), the buffer function without it.
    const onread = { buffer: () => this.#nextReadBuffer() as Buffer, callback: onSocketRead as (bytes: number, buffer: Uint8Array) => boolean };
    const socket = net.connect({ path: pool.socketPath, onread }) as WithConnection;
    socket[kConnection] = this;
    socket.on('drain', onSocketDrain);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
    this.socket = socket;
  }

  /**
   * nextReadBuffer gives net the buffer of the socket's next read (after each read, and once
   * when the socket is made): a new one when the socket has none yet or the last read's bytes
   * are still held, otherwise undefined (net keeps the one it has).
   */
  #nextReadBuffer(): Buffer | undefined {
    if (this.#hasReadBuffer && !this.isReadBufferHeld) return undefined;
    this.#hasReadBuffer = true;
    this.isReadBufferHeld = false;
    return Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
  }

  /** destroy closes the socket; the close is reported to the handler if the connection is busy. */
  destroy(): void {
    this.socket.destroy();
  }
}

function onSocketRead(this: WithConnection, bytes: number, buffer: Buffer): boolean {
  const connection = this[kConnection];
  if (connection.user === undefined) {
    // A worker may not speak on an idle connection: its framing can no longer be trusted.
    this.destroy();
    return false;
  }
  if (connection.pool.handler.onConnectionData(connection, buffer.subarray(0, bytes))) connection.isReadBufferHeld = true;
  return true;
}

function onSocketDrain(this: WithConnection): void {
  const connection = this[kConnection];
  if (connection.user !== undefined) connection.pool.handler.onConnectionDrain(connection);
}

function onSocketError(this: WithConnection, err: NodeJS.ErrnoException): void {
  this[kConnection].error = err;
}

function onSocketClose(this: WithConnection): void {
  const connection = this[kConnection];
  connection.isClosed = true;
  connection.pool.open--;
  if (connection.idleIndex >= 0) {
    connection.pool.remove(connection);
    return;
  }
  if (connection.user !== undefined) connection.pool.handler.onConnectionClose(connection, connection.error);
}

/**
 * UpstreamPool is the idle connections to one worker: at most `maxIdle`, each reused for at
 * most its idle limit after it went idle; the most recently used first (LIFO keeps few
 * sockets warm). `close()` destroys the idle ones; busy ones end with their exchange.
 */
export class UpstreamPool {
  readonly socketPath: string;
  readonly handler: ConnectionHandler;
  readonly maxIdle: number;
  readonly maxIdleMs: number;
  readonly #idle: UpstreamConnection[] = [];
  /** Connections made and not closed yet, idle or busy (for /metrics). */
  open = 0;
  #sweepTimer: NodeJS.Timeout | undefined = undefined;
  #isClosed = false;

  constructor(socketPath: string, handler: ConnectionHandler, maxIdle: number, maxIdleMs: number) {
    this.socketPath = socketPath;
    this.handler = handler;
    this.maxIdle = maxIdle;
    this.maxIdleMs = maxIdleMs;
  }

  /** isKeepAlive tells whether connections are kept for reuse at all. */
  get isKeepAlive(): boolean {
    return this.maxIdle > 0 && this.maxIdleMs > 0;
  }

  /** idle counts the connections kept for reuse now. */
  get idle(): number {
    return this.#idle.length;
  }

  /** acquire returns an idle connection that is still usable, or a new one (connecting). */
  acquire(): UpstreamConnection {
    const idle = this.#idle;
    if (idle.length > 0) {
      const now = Date.now();
      while (idle.length > 0) {
        const connection = idle.pop()!;
        connection.idleIndex = -1;
        if (!connection.isClosed && !connection.socket.destroyed && now - connection.idleSince < connection.idleLimitMs) return connection;
        connection.destroy();
      }
    }
    return this.fresh();
  }

  /** fresh returns a new connection, never a pooled one (for retries). */
  fresh(): UpstreamConnection {
    return new UpstreamConnection(this);
  }

  /** release puts a connection whose exchange completed cleanly back, or closes it when the pool is full or closed. */
  release(connection: UpstreamConnection): void {
    connection.user = undefined;
    connection.served++;
    if (this.#isClosed || connection.isClosed || this.#idle.length >= this.maxIdle || connection.idleLimitMs <= 0) {
      connection.destroy();
      return;
    }
    connection.idleSince = Date.now();
    connection.idleIndex = this.#idle.length;
    this.#idle.push(connection);
    if (this.#sweepTimer === undefined) {
      this.#sweepTimer = setInterval(sweep, Math.max(250, Math.min(this.maxIdleMs, 5000)), this);
      this.#sweepTimer.unref();
    }
  }

  /** remove takes an idle connection out of the pool (it closed). */
  remove(connection: UpstreamConnection): void {
    const index = this.#idle.indexOf(connection);
    if (index >= 0) this.#idle.splice(index, 1);
    for (let i = index; i < this.#idle.length; i++) this.#idle[i]!.idleIndex = i;
    connection.idleIndex = -1;
  }

  /** sweep closes idle connections past their idle limit. */
  sweep(): void {
    const now = Date.now();
    const idle = this.#idle;
    let kept = 0;
    for (let i = 0; i < idle.length; i++) {
      const connection = idle[i]!;
      if (now - connection.idleSince >= connection.idleLimitMs) {
        connection.idleIndex = -1;
        connection.destroy();
      } else {
        connection.idleIndex = kept;
        idle[kept++] = connection;
      }
    }
    idle.length = kept;
    if (kept === 0 && this.#sweepTimer !== undefined) {
      clearInterval(this.#sweepTimer);
      this.#sweepTimer = undefined;
    }
  }

  /** close destroys every idle connection and keeps none from now on. Idempotent. */
  close(): void {
    this.#isClosed = true;
    if (this.#sweepTimer !== undefined) clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
    const idle = this.#idle.splice(0);
    for (const connection of idle) {
      connection.idleIndex = -1;
      connection.destroy();
    }
  }
}

function sweep(pool: UpstreamPool): void {
  pool.sweep();
}
