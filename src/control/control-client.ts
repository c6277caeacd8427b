/**
 * controlRequest is the client side of the control API (control-server.ts): it finds the
 * server of a site through its pid file, sends one request and resolves with the reply.
 */
import fs from 'node:fs';
import net from 'node:net';
import { controlPaths, type PidFileContent } from './paths.js';

/** ControlUnreachableError: no server of the site runs, or it cannot be reached (a usage error of the CLI, not a request error). */
export class ControlUnreachableError extends Error {}

/** ControlReply is the server's answer to one request. */
export interface ControlReply {
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: string;
}

/**
 * controlRequest sends `request` to the nodehost serving `siteRoot` and resolves with its
 * reply. Rejects with ControlUnreachableError when no server of that site is running.
 */
export async function controlRequest(siteRoot: string, request: Record<string, unknown>): Promise<ControlReply> {
  const paths = controlPaths(siteRoot);
  let content: PidFileContent;
  try {
    content = JSON.parse(fs.readFileSync(paths.pidFile, 'utf8')) as PidFileContent;
  } catch {
    throw new ControlUnreachableError(`no nodehost is serving ${siteRoot} (no pid file ${paths.pidFile})`);
  }
  return new Promise<ControlReply>((resolve, reject) => {
    const socket = net.connect(content.socket);
    let pending = '';
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write(`${JSON.stringify({ id: 1, ...request })}\n`));
    socket.on('data', (chunk: string) => {
      pending += chunk;
      const newline = pending.indexOf('\n');
      if (newline < 0) return;
      socket.end();
      try {
        resolve(JSON.parse(pending.slice(0, newline)) as ControlReply);
      } catch (err) {
        reject(err);
      }
    });
    socket.on('error', (err) => reject(new ControlUnreachableError(`cannot reach the nodehost (pid ${content.pid}) serving ${siteRoot} at ${content.socket}: ${err.message}`)));
    socket.on('close', () => reject(new ControlUnreachableError(`the nodehost serving ${siteRoot} closed the control connection without answering`)));
  });
}
