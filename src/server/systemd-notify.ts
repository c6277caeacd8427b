/**
 * SystemdNotifier tells systemd how the host is doing (sd_notify(3)): `READY=1` once it listens,
 * `RELOADING=1` with `MONOTONIC_USEC` then `READY=1` around a SIGHUP reload, `STOPPING=1` when
 * it shuts down, and `STATUS=...` lines. It does nothing unless systemd started the host with
 * `NOTIFY_SOCKET` set (Type=notify).
 *
 * NOTIFY_SOCKET is a Unix datagram socket, and node cannot send a SOCK_DGRAM datagram over a
 * Unix socket by itself (`dgram` is UDP only, `net` is streams only). Instead of a native addon,
 * each message is handed to a short-lived helper: `systemd-notify --pid=<host pid>` where it
 * exists, else `python3` with `socket.AF_UNIX, SOCK_DGRAM`. The sender is then a child of the
 * host, so the unit needs `NotifyAccess=all` (`nodehost service install` writes it); `--pid`
 * keeps the host as the service's main process. There are few messages (start, reload, stop),
 * so a process per message costs nothing that matters.
 *
 * The variable is removed from process.env when the notifier is made, so workers (and whatever
 * they start) do not inherit it and cannot speak for the host.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import type { HostLog } from '../host-log.js';

/** The python3 program that sends argv[2..] (one `KEY=VALUE` per line) to the socket argv[1]. */
const PYTHON_SENDER = [
  'import socket, sys',
  'addr = sys.argv[1]',
  "addr = '\\0' + addr[1:] if addr.startswith('@') else addr",
  's = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)',
  "s.sendto('\\n'.join(sys.argv[2:]).encode(), addr)",
].join('\n');

export class SystemdNotifier {
  /** The socket address (a path, or `@name` for the abstract namespace); undefined: notifications are off. */
  readonly socket: string | undefined;
  readonly #log: HostLog;
  readonly #sender: { readonly command: string; readonly kind: 'systemd-notify' | 'python3' } | undefined;
  #queue: Promise<void> = Promise.resolve();

  constructor(log: HostLog, env: NodeJS.ProcessEnv = process.env) {
    this.#log = log;
    const socket = env.NOTIFY_SOCKET;
    this.socket = socket === undefined || socket === '' ? undefined : socket;
    if (env === process.env) delete process.env.NOTIFY_SOCKET;
    if (this.socket === undefined) return;
    const searchPath = env.PATH ?? '/usr/bin:/bin';
    const notify = env.NODEHOST_NOTIFY_SENDER === 'python3' ? undefined : findExecutable('systemd-notify', searchPath);
    const python = notify === undefined ? findExecutable('python3', searchPath) : undefined;
    this.#sender = notify !== undefined ? { command: notify, kind: 'systemd-notify' } : python !== undefined ? { command: python, kind: 'python3' } : undefined;
    if (this.#sender === undefined) log.warn('cannot notify systemd: neither systemd-notify nor python3 is on PATH', { socket: this.socket });
  }

  /** isEnabled tells whether messages are sent. */
  get isEnabled(): boolean {
    return this.#sender !== undefined;
  }

  /** ready sends READY=1 (and STATUS). */
  ready(status: string): Promise<void> {
    return this.notify(['READY=1', `STATUS=${status}`]);
  }

  /** reloading sends RELOADING=1 with MONOTONIC_USEC (CLOCK_MONOTONIC, which process.hrtime reads on Linux). */
  reloading(status: string): Promise<void> {
    return this.notify(['RELOADING=1', `MONOTONIC_USEC=${process.hrtime.bigint() / 1000n}`, `STATUS=${status}`]);
  }

  /** stopping sends STOPPING=1. */
  stopping(status: string): Promise<void> {
    return this.notify(['STOPPING=1', `STATUS=${status}`]);
  }

  /**
   * notify sends one message of `KEY=VALUE` assignments. Messages go out one at a time, in
   * order (a RELOADING=1 never overtakes the READY=1 before it). Never rejects: a failure is
   * logged.
   */
  notify(assignments: readonly string[]): Promise<void> {
    const sender = this.#sender;
    const socket = this.socket;
    if (sender === undefined || socket === undefined) return Promise.resolve();
    const clean = assignments.map((line) => line.replace(/[\r\n]+/g, ' '));
    this.#queue = this.#queue.then(() => send(sender, socket, clean, this.#log));
    return this.#queue;
  }
}

function send(sender: { command: string; kind: 'systemd-notify' | 'python3' }, socket: string, assignments: readonly string[], log: HostLog): Promise<void> {
  const args = sender.kind === 'systemd-notify' ? [`--pid=${process.pid}`, ...assignments] : ['-c', PYTHON_SENDER, socket, ...assignments];
  return new Promise((resolve) => {
    const child = spawn(sender.command, args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NOTIFY_SOCKET: socket },
    });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.once('error', (err) => {
      log.warn('systemd notification failed', { sender: sender.kind, err });
      resolve();
    });
    child.once('close', (code) => {
      if (code !== 0) log.warn('systemd notification failed', { sender: sender.kind, code, stderr: stderr.trim() });
      else if (log.isDebug) log.debug('systemd notified', { sender: sender.kind, message: assignments.join(' ') });
      resolve();
    });
  });
}

/** findExecutable returns the absolute path of `name` on `searchPath`, or undefined. */
export function findExecutable(name: string, searchPath: string): string | undefined {
  for (const dir of searchPath.split(':')) {
    if (dir === '') continue;
    const file = path.join(dir, name);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // Not here.
    }
  }
  return undefined;
}
