/**
 * ControlServer is the control API of a running nodehost (DESIGN §5) on a Unix socket: one JSON
 * object per line each way.
 *
 * ```
 *   → {"id":1,"cmd":"status"}                 ← {"id":1,"ok":true,"result":{site, root, apps:[...]}}
 *   → {"id":2,"cmd":"recycle"}                ← {"id":2,"ok":true,"result":{"recycled":[{script, result}]}}
 *   → {"id":3,"cmd":"recycle","app":"/a.js"}  (answered once every new generation serves or failed)
 *   → anything else                           ← {"id":…,"ok":false,"error":"…"}
 * ```
 *
 * The socket and the pid file next to it are created by `start()` and removed by `close()`.
 */
import fs from 'node:fs';
import net from 'node:net';
import type { ControlPaths, PidFileContent } from './paths.js';

/** ControlTarget is what the control API asks of the server; it knows nothing else about it. */
export interface ControlTarget {
  /** status may answer later (several front doors are asked over IPC). */
  status(): unknown;
  recycle(app?: string): Promise<readonly { script: string; result: { isServing: boolean; generation: number; error?: string } }[]>;
}

/** ControlRequest is one line from a client. */
export interface ControlRequest {
  readonly id?: unknown;
  readonly cmd?: unknown;
  readonly app?: unknown;
}

/** Longest request line accepted; a longer one closes the connection. */
const MAX_LINE_BYTES = 64 * 1024;

/** ControlServer: `start(url)` listens and writes the pid file; `close()` removes both. Idempotent. */
export class ControlServer {
  readonly paths: ControlPaths;
  readonly #target: ControlTarget;
  readonly #server: net.Server;
  readonly #sockets = new Set<net.Socket>();
  #isClosed = false;

  /** The constructor has no side effects. */
  constructor(paths: ControlPaths, target: ControlTarget) {
    this.paths = paths;
    this.#target = target;
    this.#server = net.createServer((socket) => this.#onConnection(socket));
  }

  /** start creates the private folder, the socket (mode 0600) and the pid file. Rejects when the socket cannot be created. */
  async start(siteRoot: string, url: string): Promise<void> {
    fs.mkdirSync(this.paths.dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(this.paths.dir, 0o700);
    try {
      fs.unlinkSync(this.paths.socketPath);
    } catch {
      // No stale socket: the normal case.
    }
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.paths.socketPath, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    fs.chmodSync(this.paths.socketPath, 0o600);
    const content: PidFileContent = { pid: process.pid, socket: this.paths.socketPath, siteRoot, url };
    fs.writeFileSync(this.paths.pidFile, `${JSON.stringify(content)}\n`, { mode: 0o600 });
  }

  /** close stops the API and removes the socket and the pid file (when they are still this process's). */
  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    this.#server.close();
    for (const socket of this.#sockets) socket.destroy();
    try {
      const content = JSON.parse(fs.readFileSync(this.paths.pidFile, 'utf8')) as PidFileContent;
      if (content.pid === process.pid) {
        fs.unlinkSync(this.paths.pidFile);
        fs.unlinkSync(this.paths.socketPath);
      }
    } catch {
      // Already removed, or replaced by another server of the same site.
    }
  }

  #onConnection(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.setEncoding('utf8');
    let pending = '';
    socket.on('data', (chunk: string) => {
      pending += chunk;
      if (pending.length > MAX_LINE_BYTES) {
        socket.destroy();
        return;
      }
      let newline = pending.indexOf('\n');
      while (newline >= 0) {
        const line = pending.slice(0, newline).trim();
        pending = pending.slice(newline + 1);
        if (line !== '') void this.#answer(socket, line);
        newline = pending.indexOf('\n');
      }
    });
    socket.on('end', () => socket.end());
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.#sockets.delete(socket));
  }

  async #answer(socket: net.Socket, line: string): Promise<void> {
    let request: ControlRequest;
    try {
      request = JSON.parse(line) as ControlRequest;
    } catch {
      write(socket, { id: null, ok: false, error: 'each line must be one JSON object' });
      return;
    }
    const id = request.id ?? null;
    try {
      if (request.cmd === 'status') {
        write(socket, { id, ok: true, result: await this.#target.status() });
      } else if (request.cmd === 'recycle') {
        const app = typeof request.app === 'string' && request.app !== '' ? request.app : undefined;
        const recycled = await this.#target.recycle(app);
        write(socket, { id, ok: true, result: { recycled } });
      } else {
        write(socket, { id, ok: false, error: `unknown command ${JSON.stringify(request.cmd)}; commands: status, recycle` });
      }
    } catch (err) {
      write(socket, { id, ok: false, error: (err as Error).message });
    }
  }
}

function write(socket: net.Socket, message: unknown): void {
  if (!socket.destroyed) socket.write(`${JSON.stringify(message)}\n`);
}
