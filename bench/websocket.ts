/**
 * websocket.ts is the load generator of the `websocket` scenario of `npm run bench`: WebSocket
 * echo round trips per second. Each client sends a 32-byte message and waits for its echo
 * before sending the next; the count over a fixed time is the figure, and the time from send
 * to echo is the latency. `websocketGenerator` runs this file as its own process (like wrk
 * and autocannon, so the client never shares an event loop with the harness):
 *
 *   node --import tsx bench/websocket.ts --url ws://127.0.0.1:8080/echo.js --clients 50 --seconds 5 --warmup 1
 *
 * which prints one JSON line (`WebSocketClientReport`). Traffic stays on 127.0.0.1.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import WebSocket from 'ws';
import { killGroup, startChild, stopChild } from './children.js';
import type { LoadGenerator, LoadResult } from './load.js';
import { BENCH_DIR, REPO_ROOT } from './scenarios.js';

/** PAYLOAD_BYTES is the size of every message (and of its echo). */
const PAYLOAD_BYTES = 32;

/** SLACK_SEC bounds a client run: it is killed if it outlives its duration by this much. */
const SLACK_SEC = 20;

/** WebSocketClientReport is the JSON line the client process prints. */
export interface WebSocketClientReport {
  readonly roundTrips: number;
  readonly durationSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** errors counts sockets that failed to open or closed before the end. */
  readonly errors: number;
  /** mismatches counts echoes whose size differs from the message sent. */
  readonly mismatches: number;
  readonly startedAt: number;
  readonly finishedAt: number;
}

/** RoundTrips is what one timed period of echo traffic measured. */
interface RoundTrips {
  count: number;
  errors: number;
  mismatches: number;
  /** latenciesMs holds one entry per echo (bounded by the run's length). */
  readonly latenciesMs: number[];
}

/** openSockets opens `clients` WebSockets to `url`; a socket that fails to open counts as an error. */
async function openSockets(url: string, clients: number, timeoutMs: number): Promise<{ sockets: WebSocket[]; errors: number }> {
  const opened = await Promise.all(
    Array.from(
      { length: clients },
      () =>
        new Promise<WebSocket | undefined>((resolve) => {
          const ws = new WebSocket(url, { handshakeTimeout: timeoutMs });
          ws.once('open', () => resolve(ws));
          ws.once('error', () => resolve(undefined));
          ws.once('close', () => resolve(undefined));
        }),
    ),
  );
  const sockets = opened.filter((ws): ws is WebSocket => ws !== undefined);
  return { sockets, errors: clients - sockets.length };
}

/**
 * roundTrips sends on every socket for `seconds` and counts the echoes. A socket that closes
 * or fails ends its own loop (counted as an error); the others go on until the deadline.
 */
async function roundTrips(sockets: readonly WebSocket[], seconds: number, keepLatencies: boolean): Promise<RoundTrips> {
  const payload = Buffer.alloc(PAYLOAD_BYTES, 'x');
  const result: RoundTrips = { count: 0, errors: 0, mismatches: 0, latenciesMs: [] };
  const deadline = Date.now() + seconds * 1000;
  await Promise.all(
    sockets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          let sentAt = performance.now();
          const finish = (): void => {
            ws.off('message', onMessage);
            ws.off('close', onClose);
            ws.off('error', onClose);
            resolve();
          };
          const onMessage = (data: WebSocket.RawData): void => {
            const now = performance.now();
            result.count++;
            if (keepLatencies) result.latenciesMs.push(now - sentAt);
            const size = Array.isArray(data) ? data.reduce((n, b) => n + b.length, 0) : data instanceof ArrayBuffer ? data.byteLength : data.length;
            if (size !== PAYLOAD_BYTES) result.mismatches++;
            if (Date.now() >= deadline) {
              finish();
              return;
            }
            sentAt = performance.now();
            ws.send(payload);
          };
          const onClose = (): void => {
            result.errors++;
            finish();
          };
          ws.on('message', onMessage);
          ws.once('close', onClose);
          ws.once('error', onClose);
          ws.send(payload);
        }),
    ),
  );
  return result;
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** runClient is the client process: open, warm up (not counted), measure, print one JSON line. */
async function runClient(argv: string[]): Promise<void> {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: { url: { type: 'string' }, clients: { type: 'string' }, seconds: { type: 'string' }, warmup: { type: 'string' } },
  });
  if (!values.url) throw new Error('--url is required');
  const clients = Number(values.clients ?? 10) || 10;
  const seconds = Number(values.seconds ?? 5) || 5;
  const warmup = Number(values.warmup ?? 0) || 0;
  const { sockets, errors: openErrors } = await openSockets(values.url, clients, 10_000);
  if (sockets.length === 0) throw new Error(`no WebSocket to ${values.url} opened`);
  let errors = openErrors;
  if (warmup > 0) errors += (await roundTrips(sockets, warmup, false)).errors;
  const live = sockets.filter((ws) => ws.readyState === WebSocket.OPEN);
  const startedAt = Date.now();
  const measured = await roundTrips(live, seconds, true);
  const finishedAt = Date.now();
  for (const ws of sockets) ws.terminate();
  const sorted = measured.latenciesMs.sort((a, b) => a - b);
  const durationSec = (finishedAt - startedAt) / 1000;
  const report: WebSocketClientReport = {
    roundTrips: measured.count,
    durationSec,
    // Microseconds are the resolution worth reporting (as with wrk).
    p50Ms: Math.round(percentile(sorted, 50) * 1000) / 1000,
    p99Ms: Math.round(percentile(sorted, 99) * 1000) / 1000,
    errors: errors + measured.errors,
    mismatches: measured.mismatches,
    startedAt,
    finishedAt,
  };
  process.stdout.write(`${JSON.stringify(report)}\n`);
}

/**
 * websocketGenerator runs this file as a client process per run, `connections` WebSockets to
 * the front's URL (http:// becomes ws://). Its `requestsPerSec` are round trips per second.
 */
export const websocketGenerator: LoadGenerator = {
  name: 'ws echo client',
  async start(spec) {
    const url = spec.url.replace(/^http:/, 'ws:');
    const args = [
      '--import',
      'tsx',
      join(BENCH_DIR, 'websocket.ts'),
      '--url',
      url,
      '--clients',
      String(spec.connections),
      '--seconds',
      String(spec.durationSec),
      '--warmup',
      String(spec.warmupSec),
    ];
    const child = startChild('ws-client', process.execPath, args, { cwd: REPO_ROOT });
    const limit = setTimeout(() => void stopChild(child, 1000), (spec.warmupSec + spec.durationSec + SLACK_SEC) * 1000);
    const result = (async (): Promise<LoadResult> => {
      let out = '';
      child.proc.stdout!.on('data', (c: Buffer | string) => (out += c.toString()));
      const code = await child.exited;
      clearTimeout(limit);
      killGroup(child);
      if (code !== 0) throw new Error(`ws-client exited with ${code}: ${child.stderrTail().trim().slice(-2000)}`);
      const r = JSON.parse(out.trim().split('\n').pop()!) as WebSocketClientReport;
      return {
        generator: 'ws echo client',
        requests: r.roundTrips,
        requestsPerSec: r.durationSec > 0 ? r.roundTrips / r.durationSec : 0,
        p50Ms: r.p50Ms,
        p99Ms: r.p99Ms,
        latencyResolutionMs: 0.001,
        errors: r.errors,
        non2xx: 0,
        mismatches: r.mismatches,
        startedAt: r.startedAt,
        finishedAt: r.finishedAt,
      };
    })();
    return { child, result };
  },
};

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runClient(process.argv.slice(2)).then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`ws-client: ${err instanceof Error ? err.message : String(err)}\n`);
      process.exit(1);
    },
  );
}
