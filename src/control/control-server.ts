/**
 * ControlServer serves the admin API (admin-api.ts, docs/admin.md) of a running nodehost on its
 * control socket, a Unix socket in a private folder (DESIGN §5: file permissions decide who may
 * use it), and on the optional TCP admin listener (`admin.listen` in nodehost.yml; loopback by
 * default; a bearer token is required to listen anywhere else).
 *
 * The socket and the pid file next to it are created by `start()` and removed by `close()`.
 */
import fs from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NodehostError } from '../errors.js';
import { isLoopbackAddress } from '../http/is-loopback-address.js';
import { AdminApi, type AdminTarget } from './admin-api.js';
import type { ControlPaths, PidFileContent } from './paths.js';

export type { AdminTarget } from './admin-api.js';

/** AdminListenerOptions: `admin` in nodehost.yml. */
export interface AdminListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly token?: string | undefined;
}

/** ControlServer: `start(url)` listens and writes the pid file; `close()` removes both. Idempotent. */
export class ControlServer {
  readonly paths: ControlPaths;
  readonly #api: AdminApi;
  readonly #socketServer: Server;
  readonly #admin: AdminListenerOptions | undefined;
  #adminServer: Server | undefined = undefined;
  #isClosed = false;

  /** The constructor has no side effects. Throws NH_ERR_ADMIN_LISTEN when `admin` listens off loopback without a token. */
  constructor(paths: ControlPaths, target: AdminTarget, admin?: AdminListenerOptions) {
    if (admin !== undefined) checkAdminListener(admin);
    this.paths = paths;
    this.#api = new AdminApi(target);
    this.#admin = admin;
    this.#socketServer = createServer(this.#api.handler());
  }

  /** adminUrl is the TCP admin listener's URL once started ('' without one). */
  get adminUrl(): string {
    const address = this.#adminServer?.address() as AddressInfo | null | undefined;
    if (address === undefined || address === null) return '';
    return `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`;
  }

  /** start creates the private folder, the socket (mode 0600), the pid file and the admin listener. Rejects when one cannot be created. */
  async start(siteRoot: string, url: string): Promise<void> {
    fs.mkdirSync(this.paths.dir, { recursive: true, mode: 0o700 });
    fs.chmodSync(this.paths.dir, 0o700);
    try {
      fs.unlinkSync(this.paths.socketPath);
    } catch {
      // No stale socket: the normal case.
    }
    await listen(this.#socketServer, (server) => server.listen(this.paths.socketPath));
    fs.chmodSync(this.paths.socketPath, 0o600);
    const content: PidFileContent = { pid: process.pid, socket: this.paths.socketPath, siteRoot, url };
    fs.writeFileSync(this.paths.pidFile, `${JSON.stringify(content)}\n`, { mode: 0o600 });
  }

  /** startAdminListener opens the TCP admin listener, when configured. Rejects with NH_ERR_ADMIN_LISTEN. */
  async startAdminListener(): Promise<void> {
    const admin = this.#admin;
    if (admin === undefined || this.#isClosed) return;
    const server = createServer(this.#api.handler({ token: admin.token }));
    this.#adminServer = server;
    try {
      await listen(server, (s) => s.listen(admin.port, admin.host));
    } catch (err) {
      throw new NodehostError('NH_ERR_ADMIN_LISTEN', `cannot listen on ${admin.host}:${admin.port}: ${(err as Error).message}`, { cause: err });
    }
  }

  /** close stops the API and removes the socket and the pid file (when they are still this process's). */
  close(): void {
    if (this.#isClosed) return;
    this.#isClosed = true;
    for (const server of [this.#socketServer, this.#adminServer]) {
      server?.close();
      server?.closeAllConnections();
    }
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
}

/** checkAdminListener throws NH_ERR_ADMIN_LISTEN when the listener would be reachable off this machine without a token. */
export function checkAdminListener(admin: AdminListenerOptions): void {
  if (admin.host !== 'localhost' && !isLoopbackAddress(admin.host) && (admin.token === undefined || admin.token === '')) {
    throw new NodehostError(
      'NH_ERR_ADMIN_LISTEN',
      `admin.listen ${admin.host}:${admin.port} is not a loopback address: set admin.token in nodehost.yml (clients send Authorization: Bearer <token>)`,
    );
  }
}

function listen(server: Server, start: (server: Server) => void): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      resolve();
    });
    start(server);
  });
}
