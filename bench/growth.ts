/**
 * The `growth` scenario of `npm run bench`: how nodehost's own cost grows with the size of
 * the configuration. Each case is one site written into the temp folder and served by
 * `nodehost serve` (1 worker per application, access log off, as in the throughput table):
 *
 *   rules-N    hello.js behind N URL Rewrite rules; the first N−1 never match, the last
 *              rewrites /hello to hello.js (the request passes every rule)
 *   apps-N     N applications (N folders, each its own app.js handler, idleTimeout 30 s); the
 *              load asks the last one, so the others cost no process
 *   folders-N  N folders, each with its own web.config (a custom header); the load asks a
 *              static file in the last folder
 *   cold       the first request to an application whose workers are not running (spawn to
 *              first byte), against `node app.js` started alone to its first byte
 *
 * For each table case: host RSS after the first request, then keep-alive load (c=10) for the
 * run's duration, host CPU per request over it (the host process only, not its workers) and
 * host RSS after it. It prints its own small table.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startChild, stopChild, type Child } from './children.js';
import { cleanEnv } from './fronts.js';
import type { LoadGenerator } from './load.js';
import { readProc, CLOCK_TICKS } from './proc-stats.js';
import { freePort, waitForHttp, waitForLine } from './ready.js';

/** GROWTH_SCENARIO_ID selects this scenario in `--scenarios`. */
export const GROWTH_SCENARIO_ID = 'growth';

const HELLO = "require('http').createServer((req, res) => res.end('Hello, world!')).listen(process.env.PORT);\n";
const BODY = 'Hello, world!';
const READY_MS = 30_000;
const COLD_RUNS = 3;

interface GrowthCase {
  readonly id: string;
  readonly urlPath: string;
  readonly expectBody: string;
  write(dir: string): Promise<void>;
}

/** GrowthRow is one case's figures; RSS in KiB. */
export interface GrowthRow {
  readonly case: string;
  readonly rssAfterFirstKiB: number;
  readonly rssAfterLoadKiB: number;
  readonly requestsPerSec: number;
  readonly cpuUsPerRequest: number;
  readonly errors: number;
  readonly error?: string;
}

/** ColdStart is the median of COLD_RUNS first requests, nodehost against the app alone, in ms. */
export interface ColdStart {
  readonly nodehostMs: number;
  readonly nodeAloneMs: number;
  readonly error?: string;
}

export interface GrowthReport {
  readonly rows: GrowthRow[];
  readonly cold: ColdStart;
  readonly durationSec: number;
}

export interface GrowthBenchOptions {
  readonly nodehostBin: string;
  readonly tempRoot: string;
  readonly durationSec: number;
  readonly warmupSec: number;
}

const webConfig = (inner: string): string =>
  `<?xml version="1.0" encoding="utf-8"?>\n<configuration>\n  <system.webServer>\n${inner}  </system.webServer>\n</configuration>\n`;
const handler = (script: string, iisnode = 'nodeProcessCountPerApplication="1" loggingEnabled="false" devErrorsEnabled="false"'): string =>
  `    <handlers><add name="iisnode" path="${script}" verb="*" modules="iisnode" /></handlers>\n    <iisnode ${iisnode} />\n`;

async function writeApp(dir: string, config: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'hello.js'), HELLO);
  await writeFile(join(dir, 'web.config'), config);
}

function rulesCase(count: number): GrowthCase {
  return {
    id: `rules-${count}`,
    urlPath: '/hello',
    expectBody: BODY,
    async write(dir) {
      const misses = Array.from(
        { length: count - 1 },
        (_, i) => `      <rule name="miss${i}"><match url="^miss${i}/(.*)$" /><action type="Rewrite" url="hello.js?m={R:1}" /></rule>\n`,
      );
      const last = '      <rule name="hello" stopProcessing="true"><match url="^hello$" /><action type="Rewrite" url="hello.js" /></rule>\n';
      await writeApp(dir, webConfig(`${handler('hello.js')}    <rewrite><rules>\n${misses.join('')}${last}    </rules></rewrite>\n`));
    },
  };
}

function appsCase(count: number): GrowthCase {
  return {
    id: `apps-${count}`,
    urlPath: `/app${count - 1}/hello.js`,
    expectBody: BODY,
    async write(dir) {
      await mkdir(dir, { recursive: true });
      for (let i = 0; i < count; i++)
        await writeApp(
          join(dir, `app${i}`),
          webConfig(handler('hello.js', 'nodeProcessCountPerApplication="1" idleTimeout="30000" loggingEnabled="false" devErrorsEnabled="false"')),
        );
    },
  };
}

function foldersCase(count: number): GrowthCase {
  return {
    id: `folders-${count}`,
    urlPath: `/f${count - 1}/hello.txt`,
    expectBody: BODY,
    async write(dir) {
      await mkdir(dir, { recursive: true });
      await writeFile(join(dir, 'web.config'), webConfig(''));
      for (let i = 0; i < count; i++) {
        const folder = join(dir, `f${i}`);
        await mkdir(folder);
        await writeFile(join(folder, 'hello.txt'), BODY);
        await writeFile(
          join(folder, 'web.config'),
          webConfig(`    <httpProtocol><customHeaders><add name="X-Folder" value="f${i}" /></customHeaders></httpProtocol>\n`),
        );
      }
    },
  };
}

/** growthCases is the table, in the order printed. */
const growthCases: readonly GrowthCase[] = [...[1, 100, 1000].map(rulesCase), ...[1, 10, 100].map(appsCase), ...[10, 100, 1000].map(foldersCase)];

/** runGrowthBench measures every case in turn, then the cold start; a case that fails is reported with its error. */
export async function runGrowthBench(options: GrowthBenchOptions, load: LoadGenerator, log: (line: string) => void): Promise<GrowthReport> {
  const rows: GrowthRow[] = [];
  for (const c of growthCases) {
    log(`${GROWTH_SCENARIO_ID} · ${c.id}`);
    const site = join(options.tempRoot, `${GROWTH_SCENARIO_ID}-${c.id}`, 'site');
    let host: Started | undefined;
    try {
      await c.write(site);
      await writeFile(join(site, 'package.json'), '{ "private": true, "type": "commonjs" }\n');
      host = await startHost(options, site, c.urlPath, c.expectBody);
      const rssAfterFirstKiB = rssKiB(host.child.pid);
      const url = `http://127.0.0.1:${host.port}${c.urlPath}`;
      // start resolves when the measured load begins (after its warm-up).
      const run = await load.start({ url, connections: 10, durationSec: options.durationSec, warmupSec: options.warmupSec, expectBody: c.expectBody });
      const ticksAtStart = cpuTicks(host.child.pid);
      const result = await run.result;
      const cpuUs = ((cpuTicks(host.child.pid) - ticksAtStart) / CLOCK_TICKS) * 1e6;
      rows.push({
        case: c.id,
        rssAfterFirstKiB,
        rssAfterLoadKiB: rssKiB(host.child.pid),
        requestsPerSec: Math.round(result.requestsPerSec),
        cpuUsPerRequest: result.requests > 0 ? Math.round(cpuUs / result.requests) : 0,
        errors: result.errors + result.non2xx + result.mismatches,
      });
    } catch (err) {
      rows.push({
        case: c.id,
        rssAfterFirstKiB: 0,
        rssAfterLoadKiB: 0,
        requestsPerSec: 0,
        cpuUsPerRequest: 0,
        errors: 0,
        error: (err as Error).message.split('\n')[0]!,
      });
    } finally {
      await host?.stop();
    }
  }
  let cold: ColdStart;
  try {
    cold = await measureColdStart(options, log);
  } catch (err) {
    cold = { nodehostMs: 0, nodeAloneMs: 0, error: (err as Error).message.split('\n')[0]! };
  }
  return { rows, cold, durationSec: options.durationSec };
}

interface Started {
  readonly child: Child;
  readonly port: number;
  stop(): Promise<string>;
}

async function startHost(options: GrowthBenchOptions, site: string, urlPath: string, expectBody: string): Promise<Started> {
  const port = await freePort();
  const config = join(site, '..', 'nodehost.yml');
  await writeFile(config, "logs: ''\n");
  const child = startChild(
    'nodehost',
    process.execPath,
    [options.nodehostBin, 'serve', site, '--config', config, '--port', String(port), '--host', '127.0.0.1'],
    {
      cwd: join(site, '..'),
      env: cleanEnv(),
    },
  );
  await waitForLine(child, /listening/, READY_MS);
  await waitForHttp(child, `http://127.0.0.1:${port}${urlPath}`, expectBody, READY_MS);
  return { child, port, stop: () => stopChild(child) };
}

/**
 * measureColdStart times the first request to an application that has no worker yet (nodehost
 * starts it on that request) from the request's start to its first byte, and `node hello.js`
 * alone from its spawn to the first byte of a request to it (retried until it listens).
 */
async function measureColdStart(options: GrowthBenchOptions, log: (line: string) => void): Promise<ColdStart> {
  log(`${GROWTH_SCENARIO_ID} · cold start`);
  const site = join(options.tempRoot, `${GROWTH_SCENARIO_ID}-cold`, 'site');
  await writeApp(site, webConfig(handler('hello.js')));
  await writeFile(join(site, 'package.json'), '{ "private": true, "type": "commonjs" }\n');
  const nodehost: number[] = [];
  const alone: number[] = [];
  for (let i = 0; i < COLD_RUNS; i++) {
    const port = await freePort();
    const config = join(site, '..', 'nodehost.yml');
    await writeFile(config, "logs: ''\n");
    const child = startChild(
      'nodehost',
      process.execPath,
      [options.nodehostBin, 'serve', site, '--config', config, '--port', String(port), '--host', '127.0.0.1'],
      {
        cwd: join(site, '..'),
        env: cleanEnv(),
      },
    );
    try {
      await waitForLine(child, /listening/, READY_MS);
      nodehost.push(await firstByteMs(port, '/hello.js', Date.now() + READY_MS, false));
    } finally {
      await stopChild(child);
    }
    const appPort = await freePort();
    const startedAt = performance.now();
    const app = startChild('app', process.execPath, ['hello.js'], { cwd: site, env: { ...cleanEnv(), PORT: String(appPort) } });
    try {
      await firstByteMs(appPort, '/', Date.now() + READY_MS, true);
      alone.push(performance.now() - startedAt);
    } finally {
      await stopChild(app);
    }
  }
  return { nodehostMs: median(nodehost), nodeAloneMs: median(alone) };
}

/** firstByteMs is how long a GET took to its first response byte; with `isRetried`, a refused connection is tried again until `deadline`. */
async function firstByteMs(port: number, path: string, deadline: number, isRetried: boolean): Promise<number> {
  const { request } = await import('node:http');
  for (;;) {
    const startedAt = performance.now();
    try {
      return await new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
          const took = performance.now() - startedAt;
          res.resume();
          res.on('end', () => (res.statusCode === 200 ? resolve(took) : reject(new Error(`status ${res.statusCode}`))));
        });
        req.on('error', reject);
        req.end();
      });
    } catch (err) {
      if (!isRetried || Date.now() > deadline || (err as NodeJS.ErrnoException).code !== 'ECONNREFUSED') throw err;
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
  }
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.floor(sorted.length / 2)] ?? 0);
}

function rssKiB(pid: number): number {
  return Math.round((readProc(pid)?.rssBytes ?? 0) / 1024);
}

function cpuTicks(pid: number): number {
  return readProc(pid)?.cpuTicks ?? 0;
}

/** isGrowthClean is true when every case ran without an error or a bad response. */
export function isGrowthClean(report: GrowthReport): boolean {
  return report.rows.every((r) => r.error === undefined && r.errors === 0) && report.cold.error === undefined;
}

/** formatGrowthReport renders the figures for the text report (RSS in MiB). */
export function formatGrowthReport(report: GrowthReport): string {
  const mib = (kib: number): string => (kib / 1024).toFixed(1);
  const header = ['case', 'host RSS first', 'host RSS after load', 'req/s', 'host cpu µs/req', 'errors'];
  const rows = report.rows.map((r) =>
    r.error === undefined
      ? [r.case, mib(r.rssAfterFirstKiB), mib(r.rssAfterLoadKiB), String(r.requestsPerSec), String(r.cpuUsPerRequest), String(r.errors)]
      : [r.case, '-', '-', '-', '-', '-'],
  );
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  const notes = report.rows.filter((r) => r.error !== undefined).map((r) => `  - ${r.case}: not measured, ${r.error}`);
  const c = report.cold;
  const cold =
    c.error === undefined
      ? `cold start (median of ${COLD_RUNS}): first request to an application without a worker ${c.nodehostMs} ms to first byte; node hello.js alone, spawn to first byte ${c.nodeAloneMs} ms (difference ${c.nodehostMs - c.nodeAloneMs} ms)`
      : `cold start: not measured, ${c.error}`;
  return (
    `growth: nodehost's cost as the configuration grows; host = nodehost's own process (not its workers), keep-alive GETs at c=10 for ${report.durationSec} s per case\n` +
    `${line(header)}\n${rows.map(line).join('\n')}\n${notes.length ? `${notes.join('\n')}\n` : ''}${cold}\n`
  );
}
