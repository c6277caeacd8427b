/**
 * Dashboard serves the web page of the admin listener (`/`, docs/admin.md): plain HTML, CSS and
 * JavaScript files under src/control/dashboard/, shipped as they are (no build step, no CDN).
 * The page reads the admin API of the same origin; it holds no data itself, so its files are
 * served without the token (the page asks for the token and sends it as `Authorization`).
 *
 * The files are read once, on the first request, from the folder beside this module in src/ and in
 * dist/ (the build copies it, like the worker preloads), and answered from memory with a strict Content-Security-Policy:
 * nothing but this origin's own files, no framing.
 */
import fs from 'node:fs';
import type { ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** DASHBOARD_DIR is the folder of the page's files. */
export const DASHBOARD_DIR: string = fileURLToPath(new URL('./dashboard/', import.meta.url));

/** The files of the page by URL path, with their types. */
const FILES: Readonly<Record<string, { readonly file: string; readonly type: string }>> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/dashboard.css': { file: 'dashboard.css', type: 'text/css; charset=utf-8' },
  '/dashboard.js': { file: 'dashboard.js', type: 'text/javascript; charset=utf-8' },
};

const HEADERS = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  'X-Frame-Options': 'DENY',
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Cache-Control': 'no-cache',
};

/** Dashboard: `serve(urlPath, res)` answers a file of the page and returns true, or returns false for any other path. */
export class Dashboard {
  readonly #dir: string;
  readonly #cache = new Map<string, Buffer>();

  constructor(dir = DASHBOARD_DIR) {
    this.#dir = dir;
  }

  serve(urlPath: string, method: string, res: ServerResponse): boolean {
    const entry = Object.hasOwn(FILES, urlPath) ? FILES[urlPath] : undefined;
    if (entry === undefined) return false;
    let body = this.#cache.get(entry.file);
    if (body === undefined) {
      body = fs.readFileSync(path.join(this.#dir, entry.file));
      this.#cache.set(entry.file, body);
    }
    res.writeHead(200, { ...HEADERS, 'Content-Type': entry.type, 'Content-Length': body.length });
    res.end(method === 'HEAD' ? undefined : body);
    return true;
  }
}
