import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** BENCH_DIR is this folder; REPO_ROOT is the nodehost checkout it belongs to. */
export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = dirname(BENCH_DIR);

/**
 * Scenario is one app (or static file) and one URL to load, served the same way by every
 * front. Its site folder is a template under `bench/sites/<template>` that `writeSite` copies
 * into a temp folder at run time, filling in `{{name}}` placeholders, plus generated files.
 */
export interface Scenario {
  readonly id: string;
  readonly description: string;
  /** template is the folder under bench/sites holding `web.config` and the app. */
  readonly template: string;
  /** files lists the template files to copy; a name with a folder (`hello/hello.js`) comes from another template. */
  readonly files: readonly string[];
  /** generated lists files written with `bytes` bytes of a fixed pattern (static content). */
  readonly generated?: readonly { readonly name: string; readonly bytes: number }[];
  /** script is the app's entry script; undefined for static content (no app to run alone). */
  readonly script: string | undefined;
  /** urlPath is the request target the load generator sends. */
  readonly urlPath: string;
  /** readyPath and readyBody are what the readiness probe asks and expects (default urlPath, expectBody). */
  readonly readyPath?: string;
  readonly readyBody?: string;
  /** expectBody is the exact response body; autocannon checks it when it is short. */
  readonly expectBody: string;
  /** postBytes makes every request a POST with a body of this many bytes. */
  readonly postBytes?: number;
  /** closeConnections sends `Connection: close`: one TCP connection per request (no keep-alive). */
  readonly closeConnections?: boolean;
  /**
   * isWebSocket makes the scenario WebSocket echo round trips (bench/websocket.ts) instead of
   * HTTP requests: each of the `c` connections is a WebSocket, req/s are round trips per second.
   */
  readonly isWebSocket?: boolean;
  /**
   * tls serves the scenario over HTTPS with one certificate for every front (bench/tls.ts):
   * `h1` HTTP/1.1, `h2` HTTP/2 by ALPN. The app alone speaks plain HTTP, so it has no row.
   */
  readonly tls?: 'h1' | 'h2';
  /** loader names the generator of bench/tls.ts that loads it instead of wrk or autocannon. */
  readonly loader?: 'h2load' | 's_time-full' | 's_time-resumed';
  /** connections replaces --connections for this scenario (one h2load connection, one s_time client). */
  readonly connections?: readonly number[];
}

/** pattern is the content of generated files: `bytes` bytes of a-z repeated. */
export function pattern(bytes: number): string {
  const unit = 'abcdefghijklmnopqrstuvwxyz';
  return unit.repeat(Math.ceil(bytes / unit.length)).slice(0, bytes);
}

const HELLO = { template: 'hello', files: ['web.config', 'hello.js'], script: 'hello.js', readyPath: '/hello.js', readyBody: 'Hello, world!' } as const;
const STATIC = { template: 'static', files: ['web.config'], script: undefined, generated: [{ name: 'f4k.txt', bytes: 4096 }, { name: 'f1m.txt', bytes: 1024 * 1024 }] } as const;

/** scenarios is the table of what can be measured; `--scenarios` picks from it by id. */
export const scenarios: readonly Scenario[] = [
  { ...HELLO, id: 'hello', description: 'hello world, 13-byte body, keep-alive GET', urlPath: '/hello.js', expectBody: 'Hello, world!' },
  { ...HELLO, id: 'hello-close', description: 'hello world, 13-byte body, a new connection per request (Connection: close)', urlPath: '/hello.js', expectBody: 'Hello, world!', closeConnections: true },
  { ...HELLO, id: 'https-hello', description: 'hello world over HTTPS (TLS 1.3, ECDSA P-256), keep-alive GET', urlPath: '/hello.js', expectBody: 'Hello, world!', tls: 'h1' },
  {
    ...HELLO,
    id: 'tls-full',
    description: 'new TLS connections one after another, full handshakes (openssl s_time -new), one GET each; req/s = connections/s',
    urlPath: '/hello.js',
    expectBody: 'Hello, world!',
    tls: 'h1',
    loader: 's_time-full',
    connections: [1],
  },
  {
    ...HELLO,
    id: 'tls-resumed',
    description: 'new TLS connections one after another, resumed handshakes (openssl s_time -reuse), one GET each; req/s = connections/s',
    urlPath: '/hello.js',
    expectBody: 'Hello, world!',
    tls: 'h1',
    loader: 's_time-resumed',
    connections: [1],
  },
  {
    ...HELLO,
    id: 'h2-hello',
    description: 'hello world over HTTP/2, 50 concurrent streams on each connection (h2load -m 50; p50 column: mean)',
    urlPath: '/hello.js',
    expectBody: 'Hello, world!',
    tls: 'h2',
    loader: 'h2load',
    connections: [1],
  },
  { ...HELLO, id: 'body64k', description: '64 KiB response body from the app, keep-alive GET', urlPath: '/hello.js?kb=64', expectBody: ''.padEnd(64 * 1024, 'x') },
  { ...HELLO, id: 'body1m', description: '1 MiB response body from the app, keep-alive GET', urlPath: '/hello.js?kb=1024', expectBody: ''.padEnd(1024 * 1024, 'x') },
  { ...HELLO, id: 'post1m', description: 'POST of a 1 MiB body, the app answers its size', urlPath: '/hello.js', expectBody: String(1024 * 1024), postBytes: 1024 * 1024 },
  {
    id: 'express1ms',
    description: 'express route spending ~1 ms of CPU per request',
    template: 'express',
    files: ['web.config', 'app.js'],
    script: 'app.js',
    urlPath: '/app.js',
    expectBody: 'done',
  },
  {
    id: 'websocket',
    description: 'WebSocket echo of 32-byte messages, round trips/s (req/s column) over c WebSockets',
    template: 'wsecho',
    files: ['web.config', 'echo.js'],
    script: 'echo.js',
    urlPath: '/echo.js',
    expectBody: 'ok',
    isWebSocket: true,
  },
  // URL Rewrite: the same app through the Kudu template grown to 10 rules (IsFile condition); compare with 'hello'.
  { ...HELLO, id: 'kudu10', description: 'hello world routed by 10 rewrite rules (Kudu template, IsFile), keep-alive GET', template: 'kudu', files: ['web.config', 'hello/hello.js'], urlPath: '/users/42', readyPath: '/users/42', expectBody: 'Hello, world!' },
  { ...STATIC, id: 'static4k', description: 'static 4 KiB file (text/plain), keep-alive GET', urlPath: '/f4k.txt', expectBody: pattern(4096) },
  { ...STATIC, id: 'static1m', description: 'static 1 MiB file (text/plain), keep-alive GET', urlPath: '/f1m.txt', expectBody: pattern(1024 * 1024), readyPath: '/f4k.txt', readyBody: pattern(4096) },
];

/**
 * writeSite writes the scenario's site into `dir` with the placeholders in `vars` filled in,
 * and returns `dir`. It fails if a placeholder is left unfilled, so a template change cannot
 * silently benchmark a broken web.config.
 */
export async function writeSite(scenario: Scenario, dir: string, siteVars: Record<string, string | number>): Promise<string> {
  await mkdir(dir, { recursive: true });
  // express and ws are resolved from this checkout: the site lives in a temp folder.
  const modulePath = (name: string): string => JSON.stringify(join(REPO_ROOT, 'node_modules', name));
  const vars: Record<string, string | number> = { ...siteVars, expressPath: modulePath('express'), wsPath: modulePath('ws') };
  for (const file of scenario.generated ?? []) await writeFile(join(dir, file.name), pattern(file.bytes));
  for (const file of scenario.files) {
    // A name with a folder ('hello/hello.js') borrows a file from another template.
    const source = file.includes('/') ? join(BENCH_DIR, 'sites', file) : join(BENCH_DIR, 'sites', scenario.template, file);
    const text = await readFile(source, 'utf8');
    const filled = text.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => {
      if (!(name in vars)) throw new Error(`bench/sites/${scenario.template}/${file}: no value for ${whole}`);
      return String(vars[name]);
    });
    await writeFile(join(dir, basename(file)), filled);
  }
  // The apps are CommonJS; without this, a package.json with "type": "module" somewhere
  // above the temp folder would make node load them as ES modules and fail.
  await writeFile(join(dir, 'package.json'), '{ "private": true, "type": "commonjs" }\n');
  return dir;
}
