import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { gzipSync } from 'node:zlib';
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
  /**
   * generated lists files written with `bytes` bytes of a fixed pattern (static content), or of
   * pseudo-JavaScript (`isScript`, which compresses like real code), or the gzip of an earlier
   * generated file (`gzipOf`: a precompressed sibling, written after it so it is newer).
   */
  readonly generated?: readonly { readonly name: string; readonly bytes: number; readonly isScript?: boolean; readonly gzipOf?: string }[];
  /** requestHeaders are sent with every request of the load (e.g. Accept-Encoding). */
  readonly requestHeaders?: Readonly<Record<string, string>>;
  /** nginxHttp is extra configuration for nginx's http block (e.g. `gzip on;`). */
  readonly nginxHttp?: string;
  /** nginxSkip, when set, says why the nginx fronts do not serve this scenario. */
  readonly nginxSkip?: string;
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
  /**
   * mix makes the load cycle through these request targets in order, one per request on each
   * connection (a wrk Lua script; autocannon cannot): a site's blend of URLs. `urlPath` is then
   * only the readiness probe's default.
   */
  readonly mix?: readonly string[];
  /**
   * nginxStaticRoot, for the nginx fronts: the site folder nginx serves files from first,
   * handing what is not a file to the app (`try_files $uri @app`), as the Kudu rules do.
   */
  readonly nginxStaticRoot?: string;
  /** closeConnections sends `Connection: close`: one TCP connection per request (no keep-alive). */
  readonly closeConnections?: boolean;
  /**
   * isWebSocket makes the scenario WebSocket echo round trips (bench/websocket.ts) instead of
   * HTTP requests: each of the `c` connections is a WebSocket, req/s are round trips per second.
   */
  readonly isWebSocket?: boolean;
  /**
   * cacheSeconds: the site caches the app's responses this long (an output-cache profile in
   * its web.config); the nginx fronts then use proxy_cache with the same validity and
   * proxy_cache_lock on, so both collapse concurrent misses.
   */
  readonly cacheSeconds?: number;
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

/** script is `bytes` bytes of pseudo-JavaScript, the same every time: compresses about 6:1 with gzip, like a real bundle. */
export function script(bytes: number): string {
  const words = [
    'function',
    'const',
    'return',
    'if',
    'else',
    'for',
    'this',
    'value',
    'index',
    'options',
    'result',
    '=>',
    '{',
    '}',
    '(',
    ')',
    ';',
    '.map',
    '.filter',
    'await',
  ];
  let out = '';
  let seed = 12345;
  while (out.length < bytes) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    out += words[seed % words.length] + (seed % 11 === 0 ? '\n' : ' ') + (seed % 5 === 0 ? `v${seed % 9973} ` : '');
  }
  return out.slice(0, bytes);
}

const HELLO = { template: 'hello', files: ['web.config', 'hello.js'], script: 'hello.js', readyPath: '/hello.js', readyBody: 'Hello, world!' } as const;
const JSON_APP = {
  template: 'json',
  files: ['web.config', 'json/app.js'],
  script: 'app.js',
  urlPath: '/app.js',
  readyPath: '/app.js?ready',
  readyBody: 'ok',
  expectBody: '',
} as const;
const JS_1M = {
  template: 'static',
  files: ['web.config'],
  script: undefined,
  generated: [
    { name: 'app.js', bytes: 1024 * 1024, isScript: true },
    { name: 'f4k.txt', bytes: 4096 },
  ],
  urlPath: '/app.js',
  readyPath: '/f4k.txt',
  readyBody: pattern(4096),
  expectBody: '',
  requestHeaders: { 'Accept-Encoding': 'gzip' },
} as const;
/** nginx's gzip for the compression scenarios: the types nodehost compresses by default (nginx types .js as text/plain here). */
const NGINX_GZIP = 'gzip on; gzip_min_length 2700; gzip_vary on; gzip_types text/plain application/json application/javascript;';
const STATIC = {
  template: 'static',
  files: ['web.config'],
  script: undefined,
  generated: [
    { name: 'f4k.txt', bytes: 4096 },
    { name: 'f1m.txt', bytes: 1024 * 1024 },
  ],
} as const;

/** SITE_ASSETS are the static files of the `site` scenario: name and size. */
const SITE_ASSETS: readonly (readonly [string, number])[] = [
  ['site.css', 12 * 1024],
  ['app.js', 20 * 1024],
  ['logo.svg', 2 * 1024],
  ['favicon.ico', 1024],
  ['vendor.js', 16 * 1024],
  ['theme.css', 6 * 1024],
  ['icons.svg', 4 * 1024],
];

/** scenarios is the table of what can be measured; `--scenarios` picks from it by id. */
export const scenarios: readonly Scenario[] = [
  { ...HELLO, id: 'hello', description: 'hello world, 13-byte body, keep-alive GET', urlPath: '/hello.js', expectBody: 'Hello, world!' },
  {
    ...HELLO,
    id: 'hello-close',
    description: 'hello world, 13-byte body, a new connection per request (Connection: close)',
    urlPath: '/hello.js',
    expectBody: 'Hello, world!',
    closeConnections: true,
  },
  {
    ...HELLO,
    id: 'https-hello',
    description: 'hello world over HTTPS (TLS 1.3, ECDSA P-256), keep-alive GET',
    urlPath: '/hello.js',
    expectBody: 'Hello, world!',
    tls: 'h1',
  },
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
  {
    ...HELLO,
    id: 'body64k',
    description: '64 KiB response body from the app, keep-alive GET',
    urlPath: '/hello.js?kb=64',
    expectBody: ''.padEnd(64 * 1024, 'x'),
  },
  {
    ...HELLO,
    id: 'body1m',
    description: '1 MiB response body from the app, keep-alive GET',
    urlPath: '/hello.js?kb=1024',
    expectBody: ''.padEnd(1024 * 1024, 'x'),
  },
  {
    ...HELLO,
    id: 'post1m',
    description: 'POST of a 1 MiB body, the app answers its size',
    urlPath: '/hello.js',
    expectBody: String(1024 * 1024),
    postBytes: 1024 * 1024,
  },
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
  {
    ...HELLO,
    id: 'kudu10',
    description: 'hello world routed by 10 rewrite rules (Kudu template, IsFile), keep-alive GET',
    template: 'kudu',
    files: ['web.config', 'hello/hello.js'],
    urlPath: '/users/42',
    readyPath: '/users/42',
    expectBody: 'Hello, world!',
  },
  // A site: the Kudu template (10 rules) with 70 % static assets under public/ and 30 % node responses.
  {
    ...HELLO,
    id: 'site',
    description: 'a site: Kudu template (10 rules), 7 of 10 requests static assets under public/ (1-20 KiB), 3 node responses, keep-alive',
    template: 'kudu',
    files: ['web.config', 'hello/hello.js'],
    generated: SITE_ASSETS.map(([name, bytes]) => ({ name: `public/${name}`, bytes })),
    mix: [...SITE_ASSETS.slice(0, 4).map(([name]) => `/${name}`), '/users/42', ...SITE_ASSETS.slice(4).map(([name]) => `/${name}`), '/api/orders', '/account'],
    urlPath: '/users/42',
    readyPath: '/users/42',
    expectBody: '',
    nginxStaticRoot: 'public',
  },
  // Output caching: the same 5 ms endpoint without a cache, and with a 1-second profile (nginx: proxy_cache valid 1s, proxy_cache_lock on).
  {
    id: 'cpu5ms',
    description: 'node endpoint spending 5 ms of CPU per request, no cache',
    template: 'cpu',
    files: ['web.config', 'app.js'],
    script: 'app.js',
    urlPath: '/app.js',
    expectBody: 'computed',
  },
  {
    id: 'cpu5ms-cached',
    description: 'the 5 ms endpoint behind a 1 s output cache (nginx: proxy_cache valid 1s, proxy_cache_lock on)',
    template: 'cpucached',
    files: ['web.config', 'cpu/app.js'],
    script: 'app.js',
    urlPath: '/app.js',
    expectBody: 'computed',
    cacheSeconds: 1,
  },
  { ...STATIC, id: 'static4k', description: 'static 4 KiB file (text/plain), keep-alive GET', urlPath: '/f4k.txt', expectBody: pattern(4096) },
  {
    ...STATIC,
    id: 'static1m',
    description: 'static 1 MiB file (text/plain), keep-alive GET',
    urlPath: '/f1m.txt',
    expectBody: pattern(1024 * 1024),
    readyPath: '/f4k.txt',
    readyBody: pattern(4096),
  },
  // Compression: ~100 KiB of JSON from node, and a 1 MiB script as a static file. The body
  // bytes per response are in the notes below the table.
  {
    ...JSON_APP,
    id: 'json100k-off',
    description: '100 KiB JSON from the app, Accept-Encoding: gzip, br, compression off (nginx: gzip off)',
    template: 'json-off',
    requestHeaders: { 'Accept-Encoding': 'gzip, br' },
  },
  {
    ...JSON_APP,
    id: 'json100k-gzip',
    description: '100 KiB JSON from the app, Accept-Encoding: gzip (nginx: gzip on, level 5)',
    requestHeaders: { 'Accept-Encoding': 'gzip' },
    nginxHttp: NGINX_GZIP + ' gzip_comp_level 5;',
  },
  {
    ...JSON_APP,
    id: 'json100k-br',
    description: '100 KiB JSON from the app, Accept-Encoding: br (brotli quality 4)',
    requestHeaders: { 'Accept-Encoding': 'br' },
    nginxSkip: 'nginx-light has no brotli module',
  },
  {
    ...JS_1M,
    id: 'js1m-gzip',
    description: 'static 1 MiB script, Accept-Encoding: gzip (nodehost: compressed once, cached; nginx: gzip on, level 6, per request)',
    nginxHttp: NGINX_GZIP + ' gzip_comp_level 6;',
  },
  {
    ...JS_1M,
    id: 'js1m-pre',
    description: 'static 1 MiB script with a precompressed app.js.gz, Accept-Encoding: gzip (nginx: gzip_static on)',
    generated: [...JS_1M.generated, { name: 'app.js.gz', bytes: 0, gzipOf: 'app.js' }],
    nginxHttp: 'gzip_static on;',
  },
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
  const written = new Map<string, string>();
  for (const file of scenario.generated ?? []) {
    if (file.gzipOf !== undefined) {
      await writeFile(join(dir, file.name), gzipSync(written.get(file.gzipOf)!, { level: 9 }));
      continue;
    }
    const text = file.isScript === true ? script(file.bytes) : pattern(file.bytes);
    written.set(file.name, text);
    await mkdir(dirname(join(dir, file.name)), { recursive: true });
    await writeFile(join(dir, file.name), text);
  }
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
