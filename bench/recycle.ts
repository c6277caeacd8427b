/**
 * The `recycle` scenario of `npm run bench`: nodehost with 2 workers, 50 keep-alive and 50
 * fresh connections sending requests for 10 s (4 s with --quick) while the app file is
 * rewritten 10 times (4 with --quick). It reports requests, failures, stale responses and
 * latency, most of all the longest response time of a request sent during a recycle (what a
 * deploy costs a client). The same scenario is a test: test/recycle-load.test.ts.
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

/** RecycleBenchOptions: what the runner passes. */
export interface RecycleBenchOptions {
  readonly nodehostBin: string;
  readonly tempRoot: string;
  readonly isQuick: boolean;
}

/** runRecycleBench runs the scenario once and returns its report. */
export async function runRecycleBench(options: RecycleBenchOptions, log: (line: string) => void): Promise<RecycleLoadReport> {
  const site = join(options.tempRoot, 'recycle-site');
  mkdirSync(site, { recursive: true });
  const webConfig = readFileSync(join(BENCH_DIR, 'sites', 'recycle', 'web.config'), 'utf8').replace('{{workers}}', '2');
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
    log(`recycle · nodehost-2: ${seconds} s, ${writes} deploys, 50 keep-alive + 50 fresh connections`);
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
export function formatRecycleReport(report: RecycleLoadReport): string {
  return (
    'recycle: deploys under load (nodehost, 2 workers, 50 keep-alive + 50 fresh connections)\n' +
    `  requests ${report.requests} (${report.requestsPerSec} req/s) · failures ${report.failures} · connection errors ${report.connectionErrors} · ` +
    `stale responses ${report.staleResponses} · recycles ${report.recycles}\n` +
    `  latency p50 ${report.p50LatencyMs} ms · max ${report.maxLatencyMs} ms · max during a recycle ${report.maxLatencyDuringRecycleMs} ms\n` +
    (report.examples.length > 0 ? `  first failures: ${report.examples.join('; ')}\n` : '')
  );
}
