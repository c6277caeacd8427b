import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { findOnPath } from './load.js';
import { killGroup, startChild, stopChild, type Child } from './children.js';
import { freePort, waitForHttp, waitForLine } from './ready.js';
import { REPO_ROOT, writeSite, type Scenario } from './scenarios.js';
import { CIPHERS, benchCertificate } from './tls.js';
import { dirname } from 'node:path';

/**
 * fronts.ts is the table of ways to serve a scenario's app. The app alone on TCP is the
 * baseline every other front is compared with. A new front (nginx in front of the app, say)
 * is one more entry: a `start` that writes what it needs under `workDir`, starts its
 * processes with `startChild`, waits until they answer, and returns how to reach and stop them.
 */

/** FrontContext is what a front gets to start one scenario. */
export interface FrontContext {
  readonly scenario: Scenario;
  /** workDir is an empty temp folder owned by this front for this run. */
  readonly workDir: string;
  /** nodehostBin is the `bin/nodehost` script to run (overridable with --nodehost). */
  readonly nodehostBin: string;
  /** readyTimeoutMs bounds each readiness wait. */
  readonly readyTimeoutMs: number;
}

/**
 * RunningFront is a started front. `root` is the process whose tree is sampled for CPU and
 * RSS; `rootRole` says whether that process is a host (its children are the app's workers)
 * or is the app itself.
 */
export interface RunningFront {
  readonly url: string;
  readonly root: Child;
  readonly rootRole: 'host' | 'app';
  /** hostIncludesChildren: the root's children are host processes too (nodehost front doors), their children the app's workers. */
  readonly hostIncludesChildren?: boolean;
  /**
   * stop ends the root process (SIGTERM, then SIGKILL of its group after a grace period) and
   * says how it ended. The harness afterwards reaps any descendant left behind.
   */
  stop(): Promise<string>;
}

/** Front is one row group of the report. */
export interface Front {
  readonly id: string;
  readonly label: string;
  /** isBaseline marks the front the others' ratios are computed against. */
  readonly isBaseline?: boolean;
  /** isOptIn: the front runs only when `--fronts` names it. */
  readonly isOptIn?: boolean;
  /**
   * cleanStops lists the endings of `RunningFront.stop()` that are correct; anything else is
   * reported. Default `['exit 0']`, the nodehost contract for SIGTERM.
   */
  readonly cleanStops?: readonly string[];
  /** unavailable returns why the front cannot run here (e.g. a missing binary), or undefined. */
  unavailable?(ctx: Pick<FrontContext, 'nodehostBin' | 'scenario'>): string | undefined;
  start(ctx: FrontContext): Promise<RunningFront>;
}

/** appAlone runs the scenario's script with plain `node`, PORT set to a TCP port: no host. */
export const appAlone: Front = {
  id: 'app',
  label: 'app alone (tcp)',
  isBaseline: true,
  // The app installs no SIGTERM handler, so node's default action ends it by the signal.
  cleanStops: ['exit 0', 'exit SIGTERM'],
  unavailable: ({ scenario }) =>
    scenario.script === undefined ? 'static content has no app to run alone' : scenario.tls !== undefined ? 'the app alone speaks plain HTTP' : undefined,
  async start({ scenario, workDir, readyTimeoutMs }) {
    const site = await writeSite(scenario, workDir, { nodeProcessCountPerApplication: 1 });
    if (scenario.script === undefined) throw new Error(`${scenario.id}: no app`);
    const port = await freePort();
    // node's listen() takes a numeric string as a TCP port, so the same app file serves
    // here on TCP and under nodehost on a Unix socket.
    const root = startChild('app', process.execPath, [scenario.script], { cwd: site, env: { ...cleanEnv(), PORT: String(port) } });
    const url = `http://127.0.0.1:${port}${scenario.urlPath}`;
    await guard(root, waitForHttp(root, readyUrl(port, scenario), readyBody(scenario), readyTimeoutMs));
    return { url, root, rootRole: 'app', stop: () => stopChild(root) };
  },
};

/**
 * nodehostFront serves the scenario through `nodehost serve` with `workers` worker processes
 * and `hostProcesses` front doors (`--host-processes`; the workers are split between them).
 * Its host configuration turns the access log off (`logs: ''`, like nginx's `access_log off`),
 * or with `isLogging` on: the default W3C log into the work folder (the `+log` fronts). With
 * `isMetricsOff`, nodehost runs with `--no-metrics` (no request counting for /metrics), so that
 * row beside the plain one gives the cost of the metrics.
 */
export function nodehostFront(workers: number, hostProcesses = 1, variant: { isLogging?: boolean; isMetricsOff?: boolean } = {}): Front {
  const { isLogging = false, isMetricsOff = false } = variant;
  const id = `${hostProcesses === 1 ? `nodehost-${workers}` : `nodehost-${workers}x${hostProcesses}`}${isLogging ? '+log' : ''}${isMetricsOff ? '-nometrics' : ''}`;
  return {
    id,
    isOptIn: isLogging,
    label: `nodehost, ${workers} worker${workers === 1 ? '' : 's'}${hostProcesses === 1 ? '' : `, ${hostProcesses} host procs`}${isLogging ? ', access log' : ''}${isMetricsOff ? ', no metrics' : ''}`,
    unavailable: ({ nodehostBin }) => {
      if (!existsSync(nodehostBin)) return `${nodehostBin} does not exist`;
      // bin/nodehost only loads the compiled program; say so rather than fail at start.
      const compiled = join(REPO_ROOT, 'dist', 'cli', 'main.js');
      if (nodehostBin === join(REPO_ROOT, 'bin', 'nodehost') && !existsSync(compiled)) return `${compiled} is missing (run npm run build)`;
      return undefined;
    },
    async start({ scenario, workDir, nodehostBin, readyTimeoutMs }) {
      const site = await writeSite(scenario, join(workDir, 'site'), { nodeProcessCountPerApplication: workers });
      const port = await freePort();
      // Over TLS the site is the long form's, with one https binding and the run's certificate.
      const logs = `logs: ${isLogging ? JSON.stringify(join(workDir, 'logs')) : "''"}`;
      const config = scenario.tls === undefined ? join(workDir, 'nodehost.yml') : await writeTlsHostConfig(workDir, site, port, logs);
      if (scenario.tls === undefined) await writeFile(config, `${logs}\n`);
      const where = scenario.tls === undefined ? [site, '--config', config, '--port', String(port)] : ['--config', config];
      const args = [
        nodehostBin,
        'serve',
        ...where,
        '--host',
        '127.0.0.1',
        ...(hostProcesses === 1 ? [] : ['--host-processes', String(hostProcesses)]),
        ...(isMetricsOff ? ['--no-metrics'] : []),
      ];
      const root = startChild(id, process.execPath, args, { cwd: workDir, env: cleanEnv() });
      const url = `${scenario.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}${scenario.urlPath}`;
      // `listening` means the listener accepts; the probe then makes sure a worker answers
      // (workers may start on the first request).
      await guard(root, waitForLine(root, /listening/, readyTimeoutMs));
      await guard(root, waitForHttp(root, readyUrl(port, scenario), readyBody(scenario), readyTimeoutMs));
      return { url, root, rootRole: 'host', hostIncludesChildren: hostProcesses > 1, stop: () => stopChild(root) };
    },
  };
}

/**
 * pm2Front serves the scenario's app with PM2 in cluster mode (`pm2-runtime start app -i N`,
 * the stack people pick instead of a host): node's cluster module, where PM2's process accepts
 * each connection and hands it to one of N copies of the app, round robin; its requests then
 * go straight to that copy (so PM2's own CPU is per connection, not per request). PM2 runs the app only,
 * so scenarios that need the host's own work (static files, rules, caching, compression) have
 * no PM2 row. PM2's process is the host of its row, its workers the app.
 */
export function pm2Front(workers: number): Front {
  const bin = join(REPO_ROOT, 'node_modules', 'pm2', 'bin', 'pm2-runtime');
  return {
    id: `pm2-${workers}`,
    label: `pm2 cluster, ${workers} worker${workers === 1 ? '' : 's'}`,
    cleanStops: ['exit 0', 'exit SIGTERM', 'killed'],
    unavailable: ({ scenario }) => {
      if (!existsSync(bin)) return `${bin} is missing (npm ci installs pm2)`;
      const needsHost =
        scenario.script === undefined || scenario.cacheSeconds !== undefined || scenario.requestHeaders !== undefined || scenario.template === 'kudu';
      if (needsHost) return 'pm2 runs the app only (no static files, rules, caching or compression)';
      return scenario.tls === undefined ? undefined : 'pm2 does not terminate TLS (it runs the app only)';
    },
    async start({ scenario, workDir, readyTimeoutMs }) {
      const site = await writeSite(scenario, join(workDir, 'site'), { nodeProcessCountPerApplication: workers });
      const port = await freePort();
      const env = { ...cleanEnv(), PORT: String(port), PM2_HOME: join(workDir, 'pm2') };
      const root = startChild(`pm2-${workers}`, process.execPath, [bin, 'start', scenario.script!, '-i', String(workers)], { cwd: site, env });
      await guard(root, waitForHttp(root, readyUrl(port, scenario), readyBody(scenario), readyTimeoutMs));
      return { url: `http://127.0.0.1:${port}${scenario.urlPath}`, root, rootRole: 'host', stop: () => stopChild(root) };
    },
  };
}

/**
 * nginxFront serves the scenario through nginx with `workers` worker processes in front of
 * `workers` copies of the app on Unix sockets (upstream keep-alive), or serves the static
 * files itself. The config is generated here, bound to loopback, the access log off (with
 * `isLogging`: the combined format into the work folder with `buffer=64k`, the `+log`
 * fronts), errors to stderr. The process tree
 * is nginx's master with the apps and nginx's workers below it, so "host" is the master
 * (idle) and the CPU of nginx's workers counts with the apps' in `cpu µs/req`.
 */
export function nginxFront(workers: number, isLogging = false): Front {
  return {
    id: `nginx-${workers}${isLogging ? '+log' : ''}`,
    isOptIn: isLogging,
    label: `nginx, ${workers} worker${workers === 1 ? '' : 's'}${isLogging ? ', access log' : ''}`,
    cleanStops: ['exit 0', 'exit SIGTERM', 'killed'],
    unavailable: ({ scenario }) => scenario.nginxSkip ?? ((findOnPath('nginx') ?? findNginx()) ? undefined : 'nginx is not installed (npm run bench:setup)'),
    async start({ scenario, workDir, readyTimeoutMs }) {
      const site = await writeSite(scenario, join(workDir, 'site'), { nodeProcessCountPerApplication: workers });
      const port = await freePort();
      const sockets = scenario.script === undefined ? [] : Array.from({ length: workers }, (_, i) => join(workDir, `app${i}.sock`));
      const tls = scenario.tls === undefined ? undefined : { ...benchCertificate(dirname(workDir)), isHttp2: scenario.tls === 'h2' };
      await writeFile(join(workDir, 'nginx.conf'), nginxConfig(workers, port, site, sockets, scenario, isLogging, tls));
      // One shell starts the apps and then becomes nginx's master, so they are all one tree
      // and one process group (stopped together). It waits for a line on its stdin before it
      // becomes nginx: the harness sends it once every app answers on its socket, so nginx
      // never takes a request while one of its upstreams is still starting (it would answer
      // 502 and mark that upstream down for a while).
      // `cd` is its own command: `cd x && app &` would put the cd in the first app's
      // background subshell only, and start the other copies in the wrong folder.
      const apps = sockets.map((sock) => `PORT=${shellQuote(sock)} ${shellQuote(process.execPath)} ${shellQuote(join(site, scenario.script!))} &`).join(' ');
      const nginx = `exec ${shellQuote(findOnPath('nginx') ?? findNginx()!)} -p ${shellQuote(workDir)} -c nginx.conf`;
      const script = `cd ${shellQuote(site)} || exit 1; ${apps} read go || exit 1; ${nginx}`;
      const root = startChild(`nginx-${workers}${isLogging ? '+log' : ''}`, '/bin/sh', ['-c', script], { cwd: workDir, env: cleanEnv(), hasStdin: true });
      const url = `${tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}${scenario.urlPath}`;
      const appProbe = `http://localhost${scenario.readyPath ?? scenario.urlPath}`;
      await guard(root, Promise.all(sockets.map((sock) => waitForHttp(root, appProbe, readyBody(scenario), readyTimeoutMs, sock))));
      // A shell that has already exited shows up in the next wait; the write's EPIPE is not news.
      root.proc.stdin!.on('error', () => undefined).end('go\n');
      await guard(root, waitForHttp(root, readyUrl(port, scenario), readyBody(scenario), readyTimeoutMs));
      return {
        url,
        root,
        rootRole: 'host',
        stop: async () => {
          const ended = await stopChild(root);
          killGroup(root);
          return ended;
        },
      };
    },
  };
}

/**
 * nginxConfig is the generated nginx.conf: loopback only, no access log unless `isLogging`
 * (then `access.log` in the work folder, buffered 64 KiB), keep-alive to the
 * apps. With `isWebSocket`, upgrade requests are passed on with their Upgrade and Connection
 * headers (other requests still use upstream keep-alive). `extraHttp` goes in the http block
 * (the compression scenarios' gzip directives). With `nginxStaticRoot`, files under that folder
 * are served first and the rest goes to the app. With `cacheSeconds`, responses are
 * cached that long (proxy_cache in memory-backed files under the work folder, one fetch per
 * key at a time: proxy_cache_lock).
 */
function nginxConfig(
  workers: number,
  port: number,
  site: string,
  sockets: readonly string[],
  scenario: Scenario,
  isLogging: boolean,
  tls?: { certificate: string; key: string; isHttp2: boolean },
): string {
  const isWebSocket = scenario.isWebSocket === true;
  const extraHttp = scenario.nginxHttp ?? '';
  const cacheSeconds = scenario.cacheSeconds;
  const isRoot = process.getuid?.() === 0;
  const connection = isWebSocket
    ? 'proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection $connection_upgrade;'
    : 'proxy_set_header Connection "";';
  const cache = cacheSeconds === undefined ? '' : ` proxy_cache nh; proxy_cache_valid 200 ${cacheSeconds}s; proxy_cache_lock on; proxy_cache_key $request_uri;`;
  const handler = sockets.length === 0 ? `root ${site};` : `proxy_pass http://app; proxy_http_version 1.1; ${connection} proxy_set_header Host $host;${cache}`;
  return [
    // As root, nginx's workers would run as nobody and could not connect to the apps' sockets.
    isRoot ? 'user root;' : '',
    `worker_processes ${workers};`,
    'daemon off;',
    'pid nginx.pid;',
    'error_log stderr error;',
    'events { worker_connections 16384; }',
    'http {',
    isLogging ? '  access_log access.log combined buffer=64k;' : '  access_log off;',
    '  sendfile on; tcp_nopush on;',
    '  client_body_temp_path tmp-body; proxy_temp_path tmp-proxy; fastcgi_temp_path tmp-fcgi; uwsgi_temp_path tmp-uwsgi; scgi_temp_path tmp-scgi;',
    '  client_max_body_size 0;',
    '  default_type text/plain;',
    extraHttp === '' ? '' : `  ${extraHttp}`,
    isWebSocket ? "  map $http_upgrade $connection_upgrade { default upgrade; '' ''; }" : '',
    cacheSeconds === undefined ? '' : '  proxy_cache_path cache levels=1 keys_zone=nh:10m max_size=256m inactive=60s use_temp_path=off;',
    sockets.length === 0 ? '' : `  upstream app { ${sockets.map((s) => `server unix:${s};`).join(' ')} keepalive 64; }`,
    `  server { listen 127.0.0.1:${port}${tls === undefined ? '' : ` ssl${tls.isHttp2 ? ' http2' : ''}`}; ${tls === undefined ? '' : tlsDirectives(tls)}${
      scenario.nginxStaticRoot === undefined
        ? `location / { ${handler} } }`
        : `location / { root ${join(site, scenario.nginxStaticRoot)}; try_files $uri @app; } location @app { ${handler} } }`
    }`,
    '}',
    '',
  ].join('\n');
}

/**
 * tlsDirectives give nginx nodehost's TLS settings: the same certificate, TLS 1.2 and 1.3,
 * the same TLS 1.2 ciphers (src/server/certificates.ts), session tickets as nodehost has them,
 * and no cap on requests per connection (nginx closes one after 1000, and h2load does not reconnect).
 * (`listen ... ssl http2` rather than `http2 on`, which nginx before 1.25.1 lacks.)
 */
function tlsDirectives(tls: { certificate: string; key: string }): string {
  return `ssl_certificate ${tls.certificate}; ssl_certificate_key ${tls.key}; ssl_protocols TLSv1.2 TLSv1.3; ssl_ciphers ${CIPHERS}; ssl_prefer_server_ciphers on; ssl_session_tickets on; keepalive_requests 1000000; `;
}

/** writeTlsHostConfig writes the nodehost.yml of a TLS scenario: one site, one https binding, the run's certificate; `logs` is its access log line. */
async function writeTlsHostConfig(workDir: string, site: string, port: number, logs: string): Promise<string> {
  const { certificate, key } = benchCertificate(dirname(workDir));
  const file = join(workDir, 'nodehost.yml');
  await writeFile(
    file,
    [
      logs,
      'sites:',
      '  - name: bench',
      `    root: ${site}`,
      `    bindings: ["https://*:${port}"]`,
      `    tls: { certificate: ${certificate}, key: ${key} }`,
      '',
    ].join('\n'),
  );
  return file;
}

function findNginx(): string | undefined {
  for (const candidate of ['/usr/sbin/nginx', '/usr/local/sbin/nginx', '/usr/local/nginx/sbin/nginx']) if (existsSync(candidate)) return candidate;
  return undefined;
}

function shellQuote(text: string): string {
  return `'${text.replaceAll("'", "'\\''")}'`;
}

/** readyUrl and readyBody are what the readiness probe asks and expects. */
function readyUrl(port: number, scenario: Scenario): string {
  return `${scenario.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}${scenario.readyPath ?? scenario.urlPath}`;
}

function readyBody(scenario: Scenario): string {
  return scenario.readyBody ?? scenario.expectBody;
}

/**
 * fronts is the table, in report order; `--fronts` picks from it by id. Every front but the
 * `+log` ones (isOptIn) runs by default, access logs off on both sides; the `+log` pairs
 * compare them with the access log on, on both sides.
 */
export const fronts: readonly Front[] = [
  appAlone,
  nodehostFront(1),
  nodehostFront(1, 1, { isMetricsOff: true }),
  nginxFront(1),
  nodehostFront(2),
  nginxFront(2),
  nodehostFront(2, 2),
  pm2Front(2),
  nodehostFront(1, 1, { isLogging: true }),
  nginxFront(1, true),
  nodehostFront(2, 1, { isLogging: true }),
  nginxFront(2, true),
];

/**
 * cleanEnv is the harness's environment without the variables that would change what is
 * measured: IISNODE_* override web.config settings (spec: configuration sources), PORT and
 * NODE_OPTIONS would leak into the app and its workers.
 */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k === 'PORT' || k === 'NODE_OPTIONS' || /^IISNODE_/i.test(k)) continue;
    env[k] = v;
  }
  return env;
}

/** guard stops the child when a readiness wait fails, so a broken front leaves nothing behind. */
async function guard<T>(child: Child, wait: Promise<T>): Promise<T> {
  try {
    return await wait;
  } catch (err) {
    await stopChild(child, 1000);
    killGroup(child);
    throw err;
  }
}
