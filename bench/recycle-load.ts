/**
 * The "deploy under load" scenario, shared by the load test (test/recycle-load.test.ts) and
 * `npm run bench`: a client sends requests continuously from keep-alive and non-keep-alive
 * connections while the app file is rewritten; every response is checked.
 *
 * The host must log `app recycled` lines (JSON on stderr) for the check "every response to a
 * request sent after the k-th recycle completed comes from version k or later": the driver
 * waits for that line after each write, and notes when it saw it.
 */
import { writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { performance } from 'node:perf_hooks';

/** RecycleLoadOptions: where to send requests and how hard. */
export interface RecycleLoadOptions {
  /** Base URL of the host, e.g. http://127.0.0.1:1234 */
  readonly base: string;
  /** Request target answering the version, e.g. /app.js/version (the body is `v<k>`). */
  readonly target: string;
  /** The app file to rewrite, and its text for version k (`v<k>`). */
  readonly appFile: string;
  readonly appText: (version: string) => string;
  readonly keepAliveConnections: number;
  readonly freshConnections: number;
  readonly durationMs: number;
  readonly writes: number;
  /** Resolves when the host logged the recycle that followed a write (a generation above `after`). */
  readonly waitForRecycle: (after: number) => Promise<number>;
  /** Safety cap on the requests per connection loop (the loops are also bounded by time). */
  readonly maxRequestsPerLoop?: number;
}

/** Sample is one request. */
interface Sample {
  readonly sentAt: number;
  readonly ms: number;
  readonly version: number;
  readonly failure: string;
}

/** RecycleLoadReport is what one run measured. */
export interface RecycleLoadReport {
  readonly requests: number;
  readonly failures: number;
  readonly connectionErrors: number;
  /** Responses to requests sent after a recycle completed that came from an older version. */
  readonly staleResponses: number;
  readonly recycles: number;
  readonly maxLatencyMs: number;
  /** Longest response time of a request sent while a recycle was under way (write → recycle logged). */
  readonly maxLatencyDuringRecycleMs: number;
  readonly p50LatencyMs: number;
  readonly p99LatencyMs: number;
  /** p99 of the requests sent while no recycle was under way (the steady state). */
  readonly p99SteadyMs: number;
  /** p99 of the requests sent while a recycle was under way (write → recycle logged). */
  readonly p99DuringRecycleMs: number;
  readonly requestsPerSec: number;
  /** The first failures, for the report. */
  readonly examples: readonly string[];
}

/** runRecycleLoad runs the scenario and returns what it measured; it never throws for a failed request. */
export async function runRecycleLoad(options: RecycleLoadOptions): Promise<RecycleLoadReport> {
  const url = new URL(options.base);
  const samples: Sample[] = [];
  const cap = options.maxRequestsPerLoop ?? 200_000;
  const startedAt = performance.now();
  const endAt = startedAt + options.durationMs;
  let isStopping = false;
  const keepAlive = new Agent({ keepAlive: true, maxSockets: options.keepAliveConnections });

  const once = (agent: Agent | false): Promise<void> =>
    new Promise((resolve) => {
      const sentAt = performance.now();
      const done = (version: number, failure: string): void => {
        samples.push({ sentAt, ms: performance.now() - sentAt, version, failure });
        resolve();
      };
      const req = request({ host: url.hostname, port: url.port, path: options.target, agent }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('error', (err) => done(0, `response error ${err.message}`));
        res.on('end', () => {
          const match = /^v(\d+)$/.exec(body);
          if (res.statusCode !== 200 || match === null) done(0, `status ${res.statusCode} body ${body.slice(0, 80)}`);
          else done(Number(match[1]), '');
        });
      });
      req.on('error', (err) => done(0, `connection error ${(err as NodeJS.ErrnoException).code ?? err.message}`));
      req.end();
    });

  const loop = async (agent: Agent | false): Promise<void> => {
    for (let i = 0; i < cap && !isStopping && performance.now() < endAt; i++) await once(agent);
  };

  // Writes: version k at k × duration/(writes+1), each after the previous recycle completed.
  const recycleWindows: { start: number; end: number; version: number }[] = [];
  const writer = async (): Promise<void> => {
    let generation = 1;
    for (let k = 2; k <= options.writes + 1; k++) {
      const due = startedAt + ((k - 1) * options.durationMs) / (options.writes + 1);
      const wait = due - performance.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
      const start = performance.now();
      writeFileSync(options.appFile, options.appText(`v${k}`));
      generation = await options.waitForRecycle(generation);
      recycleWindows.push({ start, end: performance.now(), version: k });
    }
  };

  const loops: Promise<void>[] = [];
  for (let i = 0; i < options.keepAliveConnections; i++) loops.push(loop(keepAlive));
  for (let i = 0; i < options.freshConnections; i++) loops.push(loop(false));
  let writerError: unknown;
  const writing = writer().catch((err: unknown) => {
    writerError = err;
  });
  await writing;
  await Promise.all(loops);
  isStopping = true;
  keepAlive.destroy();
  if (writerError !== undefined) throw writerError;

  let failures = 0;
  let connectionErrors = 0;
  let stale = 0;
  let maxLatency = 0;
  let maxDuringRecycle = 0;
  const examples: string[] = [];
  const steady: number[] = [];
  const duringRecycle: number[] = [];
  for (const sample of samples) {
    if (sample.failure !== '') {
      failures++;
      if (sample.failure.startsWith('connection error')) connectionErrors++;
      if (examples.length < 5) examples.push(sample.failure);
      continue;
    }
    maxLatency = Math.max(maxLatency, sample.ms);
    let expected = 1;
    let isDuringRecycle = false;
    for (const window of recycleWindows) {
      if (sample.sentAt >= window.end) expected = window.version;
      if (sample.sentAt >= window.start && sample.sentAt < window.end) isDuringRecycle = true;
    }
    if (isDuringRecycle) {
      maxDuringRecycle = Math.max(maxDuringRecycle, sample.ms);
      duringRecycle.push(sample.ms);
    } else {
      steady.push(sample.ms);
    }
    if (sample.version < expected) {
      stale++;
      if (examples.length < 5) examples.push(`v${sample.version} after the recycle to v${expected} completed`);
    }
  }
  const sorted = samples.map((s) => s.ms).sort((a, b) => a - b);
  steady.sort((a, b) => a - b);
  duringRecycle.sort((a, b) => a - b);
  const elapsed = (performance.now() - startedAt) / 1000;
  return {
    requests: samples.length,
    failures,
    connectionErrors,
    staleResponses: stale,
    recycles: recycleWindows.length,
    maxLatencyMs: Math.round(maxLatency),
    maxLatencyDuringRecycleMs: Math.round(maxDuringRecycle),
    p50LatencyMs: percentile(sorted, 0.5),
    p99LatencyMs: percentile(sorted, 0.99),
    p99SteadyMs: percentile(steady, 0.99),
    p99DuringRecycleMs: percentile(duringRecycle, 0.99),
    requestsPerSec: Math.round(samples.length / elapsed),
    examples,
  };
}

/** percentile is the `q` quantile of ascending `sorted` in ms, to 0.1 ms (0 when empty). */
function percentile(sorted: readonly number[], q: number): number {
  return Math.round((sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0) * 10) / 10;
}

/**
 * recycleWatcher follows a host's stderr (JSON lines) and returns `waitForRecycle`: it
 * resolves with the generation of the first `app recycled` line above `after`, and rejects
 * after `timeoutMs` (a safety bound, not a measurement).
 */
export function recycleWatcher(stderr: NodeJS.ReadableStream, timeoutMs = 60_000): (after: number) => Promise<number> {
  let seen = 1;
  const listeners = new Set<() => void>();
  let buffer = '';
  stderr.on('data', (chunk: Buffer | string) => {
    buffer += chunk.toString();
    let newline = buffer.indexOf('\n');
    while (newline >= 0) {
      const line = buffer.slice(0, newline);
      buffer = buffer.slice(newline + 1);
      newline = buffer.indexOf('\n');
      if (!line.includes('app recycled')) continue;
      const match = /"generation":(\d+)/.exec(line);
      if (match !== null) seen = Math.max(seen, Number(match[1]));
      for (const listener of listeners) listener();
    }
  });
  return (after) =>
    new Promise<number>((resolve, reject) => {
      const check = (): void => {
        if (seen > after) {
          clearTimeout(timer);
          listeners.delete(check);
          resolve(seen);
        }
      };
      const timer = setTimeout(() => {
        listeners.delete(check);
        reject(new Error(`no recycle above generation ${after} within ${timeoutMs} ms`));
      }, timeoutMs);
      listeners.add(check);
      check();
    });
}
