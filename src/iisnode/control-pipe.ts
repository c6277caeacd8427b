/**
 * ControlPipe is the `IISNODE_CONTROL_PIPE` of one application (recycleSignalEnabled,
 * spec/iisnode.md 2.7): a Unix socket in the host's private run folder. A worker connects and
 * writes `recycle` (case-insensitive, optionally ending with a newline); each such message
 * recycles the worker's own application, gracefully. Unlike iisnode, whose pipe accepted one
 * message once and then recycled the whole IIS worker process, the pipe keeps accepting
 * connections and messages for as long as the application runs. Other messages are ignored.
 */
import fs from 'node:fs';
import net from 'node:net';

/** Longest message kept while waiting for its end: anything longer is not `recycle`. */
const MAX_MESSAGE_BYTES = 64;

/**
 * ControlPipe: `listen()` creates the socket (resolves once it accepts connections);
 * `close()` removes it (idempotent). `onRecycle` runs once per `recycle` message.
 */
export class ControlPipe {
  readonly socketPath: string;
  readonly #onRecycle: () => void;
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #isClosed = false;

  /** The constructor has no side effects. */
  constructor(socketPath: string, onRecycle: () => void) {
    this.socketPath = socketPath;
    this.#onRecycle = onRecycle;
    this.#server = net.createServer((socket) => this.#onConnection(socket));
    this.#server.on('error', () => {
      // A listen failure leaves the pipe absent: the worker's connect fails, requests are unaffected.
    });
  }

  /** listen creates the socket file; it never rejects (a failure just leaves no pipe). */
  listen(): Promise<void> {
    try {
      fs.unlinkSync(this.socketPath);
    } catch {
      // Not there: the normal case.
    }
    return new Promise((resolve) => {
      this.#server.once('error', () => resolve());
      this.#server.listen(this.socketPath, () => resolve());
    });
  }

  /** close stops accepting, drops open connections and removes the socket file. Idempotent. */
  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#server.close();
    for (const socket of this.#sockets) socket.destroy();
    this.#sockets.clear();
    try {
      fs.unlinkSync(this.socketPath);
    } catch {
      // Already gone.
    }
  }

  #onConnection(socket: net.Socket): void {
    if (this.#isClosed) {
      socket.destroy();
      return;
    }
    this.#sockets.add(socket);
    let pending = '';
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      pending += chunk;
      const lines = pending.split(/\r?\n/);
      pending = lines.pop() ?? '';
      for (const line of lines) this.#onMessage(line);
      // A message without a newline counts as soon as it is complete, as with iisnode's message pipe.
      if (pending.trim().toLowerCase() === 'recycle') {
        pending = '';
        this.#onMessage('recycle');
      } else if (pending.length > MAX_MESSAGE_BYTES) {
        pending = '';
      }
    });
    socket.on('end', () => {
      if (pending !== '') this.#onMessage(pending);
      pending = '';
      socket.end();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.#sockets.delete(socket));
  }

  #onMessage(message: string): void {
    if (this.#isClosed) return;
    if (message.trim().toLowerCase() === 'recycle') this.#onRecycle();
  }
}
