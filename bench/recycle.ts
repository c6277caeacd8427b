/**
 * The `recycle` scenario of `npm run bench` (deploys under load): nodehost with 2 workers, 50
 * keep-alive and 50 fresh connections sending requests for 10 s (4 s with --quick) while the
 * app file is rewritten 10 times (4 with --quick); the app spends START_DELAY_MS before it
 * listens, like a real one loading its code. It runs once overlapped (the default) and once in
 * iisnode's order (overlappedRecycle=false), and reports requests, failures, stale responses
 * and latency: p99 of the requests sent during a recycle against the steady-state p99 is what
 * a deploy costs a client. The same load is a test: test/recycle-load.test.ts.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startChild, stopChild } from './children.js';
import { cleanEnv } from './fronts.js';
import { freePort, waitForHttp, waitForLine } from './ready.js';
import { recycleWatcher, runRecycleLoad, type RecycleLoadReport } from './recycle-load.js';
import { BENCH_DIR } from './scenarios.js';

/** RECYCLE_SCENARIO_ID selects this scenario in `--scenarios`. */
export const RECYCLE_SCENARIO_ID = 'recycle';

/** START_DELAY_MS is how long the bench app works before it listens. */
const START_DELAY_MS = 500;

/** RecycleBenchOptions: what the runner passes. */
export interface RecycleBenchOptions {
  readonly nodehostBin: string;
  readonly tempRoot: string;
  readonly isQuick: boolean;
}

/** RecycleBenchResult is one run of the scenario: in which order the recycles went, and what it measured. */
export interface RecycleBenchResult {
  readonly isOverlapped: boolean;
  readonly startDelayMs: number;
  readonly report: RecycleLoadReport;
}

/** runRecycleBench runs the scenario overlapped, then in iisnode's order, and returns both reports. */
export async function runRecycleBench(options: RecycleBenchOptions, log: (line: string) => void): Promise<RecycleBenchResult[]> {
  const results: RecycleBenchResult[] = [];
  for (const isOverlapped of [true, false]) {
    results.push({ isOverlapped, startDelayMs: START_DELAY_MS, report: await runOnce(options, isOverlapped, log) });
  }
  return results;
}

async function runOnce(options: RecycleBenchOptions, isOverlapped: boolean, log: (line: string) => void): Promise<RecycleLoadReport> {
  const site = join(options.tempRoot, `recycle-site-${isOverlapped ? 'overlapped' : 'iisnode'}`);
  mkdirSync(site, { recursive: true });
  const webConfig = readFileSync(join(BENCH_DIR, 'sites', 'recycle', 'web.config'), 'utf8')
    .replace('{{workers}}', '2')
    .replace('{{overlapped}}', String(isOverlapped))
    .replace('{{startDelayMs}}', String(START_DELAY_MS));
  const template = readFileSync(join(BENCH_DIR, 'sites', 'recycle', 'app.js'), 'utf8');
  writeFileSync(join(site, 'web.config'), webConfig);
  writeFileSync(join(site, 'app.js'), template);
  writeFileSync(join(site, 'package.json'), '{ "private": true, "type": "commonjs" }\n');
  const port = await freePort();
  const host = startChild('nodehost-recycle', process.execPath, [options.nodehostBin, 'serve', site, '--port', String(port), '--host', '127.0.0.1'], {
    cwd: options.tempRoot,
    env: cleanEnv(),
  });
  try {
    const waitForRecycle = recycleWatcher(host.proc.stderr!);
    await waitForLine(host, /listening/, 20_000);
    await waitForHttp(host, `http://127.0.0.1:${port}/app.js`, 'v1', 20_000);
    const seconds = options.isQuick ? 4 : 10;
    const writes = options.isQuick ? 4 : 10;
    log(`recycle · nodehost-2 ${isOverlapped ? 'overlapped' : "iisnode's order"}: ${seconds} s, ${writes} deploys, 50 keep-alive + 50 fresh connections`);
    return await runRecycleLoad({
      base: `http://127.0.0.1:${port}`,
      target: '/app.js',
      appFile: join(site, 'app.js'),
      appText: (version) => template.replace("const VERSION = 'v1';", `const VERSION = '${version}';`),
      keepAliveConnections: 50,
      freshConnections: 50,
      durationMs: seconds * 1000,
      writes,
      waitForRecycle,
    });
  } finally {
    await stopChild(host);
  }
}

/** formatRecycleReport renders the scenario's figures for the text report. */
export function formatRecycleReport(results: readonly RecycleBenchResult[]): string {
  let out = `recycle: deploys under load (nodehost, 2 workers, 50 keep-alive + 50 fresh connections, an app that starts in ${START_DELAY_MS} ms)\n`;
  for (const { isOverlapped, report } of results) {
    out +=
      `  ${isOverlapped ? 'overlapped (default)' : "iisnode's order    "}  requests ${report.requests} (${report.requestsPerSec} req/s) · failures ${report.failures} · ` +
      `connection errors ${report.connectionErrors} · stale responses ${report.staleResponses} · recycles ${report.recycles}\n` +
      `    p50 ${report.p50LatencyMs} ms · p99 steady ${report.p99SteadyMs} ms · p99 during a recycle ${report.p99DuringRecycleMs} ms ` +
      `(${report.p99SteadyMs > 0 ? (report.p99DuringRecycleMs / report.p99SteadyMs).toFixed(1) : '-'} ×) · max during a recycle ${report.maxLatencyDuringRecycleMs} ms\n` +
      (report.examples.length > 0 ? `    first failures: ${report.examples.join('; ')}\n` : '');
  }
  return out;
}
