/**
 * adminRequest is the client side of the admin API (admin-api.ts) over the control socket: it
 * finds the server of a site through its pid file, sends one HTTP request and resolves with the
 * status and the parsed JSON (or the text of /metrics).
 */
import fs from 'node:fs';
import { request } from 'node:http';
import { controlPaths, type PidFileContent } from './paths.js';

/** ControlUnreachableError: no server of the site runs, or it cannot be reached (a failure of the CLI, not of a request). */
export class ControlUnreachableError extends Error {}

/** AdminReply is the server's answer to one request. */
export interface AdminReply {
  readonly status: number;
  /** The parsed JSON body; for text bodies (/metrics) the text. */
  readonly body: unknown;
}

/**
 * adminRequest sends `method path` to the nodehost serving `siteRoot` and resolves with its
 * reply. Rejects with ControlUnreachableError when no server of that site is running.
 */
export async function adminRequest(siteRoot: string, method: string, path: string): Promise<AdminReply> {
  const paths = controlPaths(siteRoot);
  let content: PidFileContent;
  try {
    content = JSON.parse(fs.readFileSync(paths.pidFile, 'utf8')) as PidFileContent;
  } catch {
    throw new ControlUnreachableError(`no nodehost is serving ${siteRoot} (no pid file ${paths.pidFile})`);
  }
  return new Promise<AdminReply>((resolve, reject) => {
    const req = request({ socketPath: content.socket, method, path, headers: { Accept: 'application/json' } });
    req.on('error', (err) =>
      reject(new ControlUnreachableError(`cannot reach the nodehost (pid ${content.pid}) serving ${siteRoot} at ${content.socket}: ${err.message}`)),
    );
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('error', reject);
      res.on('end', () => {
        const isJson = (res.headers['content-type'] ?? '').startsWith('application/json');
        try {
          resolve({ status: res.statusCode ?? 0, body: isJson ? JSON.parse(text) : text });
        } catch (err) {
          reject(err);
        }
      });
    });
    req.end();
  });
}

/** errorMessage reads `{ error: { code, message } }` from a reply body ('' when it has none). */
export function errorMessage(body: unknown): string {
  const error = (body as { error?: { code?: string; message?: string } } | null)?.error;
  return error === undefined ? '' : `${error.message ?? ''} [${error.code ?? ''}]`;
}
