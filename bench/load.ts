import { accessSync, constants, existsSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { availableParallelism } from 'node:os';
import { killGroup, startChild, stopChild, type Child } from './children.js';
import { REPO_ROOT } from './scenarios.js';
import { parseWrkOutput } from './wrk-output.js';

/**
 * load.ts runs the load generator, always in its own process so that it never shares an
 * event loop (or a GC pause) with the harness or the fronts. wrk is used when it is on PATH
 * (C, microsecond latencies, far less CPU per request); otherwise autocannon's CLI.
 */

/** LoadSpec is one load run: GETs (keep-alive unless `closeConnections`) of `url` over `connections` connections. */
export interface LoadSpec {
  readonly url: string;
  readonly connections: number;
  readonly durationSec: number;
  /** warmupSec is unmeasured load just before the measured period (0: none). */
  readonly warmupSec: number;
  /** expectBody, when set, makes autocannon count responses with another body as mismatches. */
  readonly expectBody?: string;
  /** postBytes makes every request a POST with a body of this many bytes. */
  readonly postBytes?: number;
  /** closeConnections sends `Connection: close` on every request: a new connection per request. */
  readonly closeConnections?: boolean;
  /** headers are sent with every request. */
  readonly headers?: Readonly<Record<string, string>>;
}

/** LoadResult is what one load run measured. */
export interface LoadResult {
  readonly generator: string;
  readonly requests: number;
  readonly requestsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** latencyResolutionMs is the histogram's step: 1 for autocannon, 0.001 for wrk. */
  readonly latencyResolutionMs: number;
  /** errors counts connection errors and timeouts. */
  readonly errors: number;
  readonly non2xx: number;
  /** mismatches counts 2xx responses with the wrong body (autocannon only). */
  readonly mismatches: number;
  /** startedAt and finishedAt (epoch ms) bound the measured period, for the CPU window. */
  readonly startedAt: number;
  readonly finishedAt: number;
}

/** LoadRun is a started load run: its process (to sample its CPU) and its result. */
export interface LoadRun {
  readonly child: Child;
  readonly result: Promise<LoadResult>;
}

/**
 * LoadGenerator starts load runs; `name` appears in the report. `start` resolves once the
 * process that does the measured load has started (after a separate warm-up, if any).
 */
export interface LoadGenerator {
  readonly name: string;
  start(spec: LoadSpec): Promise<LoadRun>;
}

/** SLACK_SEC bounds a load run: it is killed if it outlives its duration by this much. */
const SLACK_SEC = 20;

/**
 * pickLoadGenerator returns the requested generator, or wrk when it is on PATH, else
 * autocannon. It throws if the requested one is not installed.
 */
export function pickLoadGenerator(wanted?: string): LoadGenerator {
  const wrk = findOnPath('wrk');
  if (wanted === 'wrk' && !wrk) throw new Error('--loader wrk: wrk is not on PATH');
  if (wanted && wanted !== 'wrk' && wanted !== 'autocannon') throw new Error(`--loader: unknown generator ${wanted}`);
  if (wrk && wanted !== 'autocannon') return wrkGenerator(wrk);
  return autocannonGenerator(join(REPO_ROOT, 'node_modules', 'autocannon', 'autocannon.js'));
}

function autocannonGenerator(script: string): LoadGenerator {
  return {
    name: 'autocannon',
    async start(spec) {
      const args = [script, '--json', '-n', '-c', String(spec.connections), '-p', '1', '-d', String(spec.durationSec)];
      // Warm up inside the same process: autocannon is JavaScript, and a fresh process
      // sends noticeably fewer requests in its first second while its own code is cold.
      // It then prints one JSON line for the warm-up and one for the measured period.
      if (spec.warmupSec > 0) args.push('--warmup', '[', '-c', String(spec.connections), '-d', String(spec.warmupSec), ']');
      if (spec.expectBody !== undefined) args.push('-E', spec.expectBody);
      if (spec.postBytes !== undefined) args.push('-m', 'POST', '-i', postBodyFile(spec.postBytes));
      // The server closes after each response and autocannon reconnects. (Its `-D 1`,
      // reconnect after every request, sends no request at all in autocannon 8.)
      if (spec.closeConnections) args.push('-H', 'Connection=close');
      for (const [name, value] of Object.entries(spec.headers ?? {})) args.push('-H', `${name}=${value}`);
      const child = startChild('autocannon', process.execPath, [...args, spec.url], { env: loaderEnv() });
      const result = collect(child, spec).then((out) => {
        const lines = out.trim().split('\n');
        const j = JSON.parse(lines[lines.length - 1]!) as AutocannonJson;
        return {
          generator: 'autocannon',
          requests: j.requests.total,
          // Total over elapsed time, like wrk, rather than autocannon's mean of per-second buckets.
          requestsPerSec: j.duration > 0 ? j.requests.total / j.duration : 0,
          p50Ms: j.latency.p50,
          p99Ms: j.latency.p99,
          latencyResolutionMs: 1,
          errors: j.errors + j.timeouts,
          non2xx: j.non2xx,
          mismatches: j.mismatches,
          startedAt: Date.parse(j.start),
          finishedAt: Date.parse(j.finish),
        };
      });
      return { child, result };
    },
  };
}

function wrkGenerator(bin: string): LoadGenerator {
  // One wrk thread per two CPUs (at least one, at most one per connection): the generator
  // shares the machine with the front and the app, and one wrk thread already outruns node.
  const threads = Math.max(1, Math.floor(availableParallelism() / 2));
  return {
    name: 'wrk',
    async start(spec) {
      const t = Math.min(threads, spec.connections);
      const script = spec.postBytes === undefined ? [] : ['-s', postScript(spec.postBytes)];
      // wrk reconnects whenever the server closes the connection after a response.
      const close = spec.closeConnections ? ['-H', 'Connection: close'] : [];
      for (const [name, value] of Object.entries(spec.headers ?? {})) close.push('-H', `${name}: ${value}`);
      const args = (sec: number): string[] => [
        '-t',
        String(t),
        '-c',
        String(spec.connections),
        '-d',
        `${sec}s`,
        '--latency',
        '--timeout',
        '10s',
        ...close,
        ...script,
        spec.url,
      ];
      if (spec.warmupSec > 0) {
        // wrk has no warm-up option: a separate run whose report is only checked for failure.
        const warm = startChild('wrk', bin, args(spec.warmupSec), { env: loaderEnv() });
        parseWrkOutput(await collect(warm, { ...spec, durationSec: spec.warmupSec }));
      }
      const startedAt = Date.now();
      const child = startChild('wrk', bin, args(spec.durationSec), { env: loaderEnv() });
      const result = collect(child, spec).then((out) => {
        const r = parseWrkOutput(out);
        return { generator: 'wrk', ...r, latencyResolutionMs: 0.001, mismatches: 0, startedAt, finishedAt: Date.now() };
      });
      return { child, result };
    },
  };
}

/** collect waits for the generator to exit (bounded) and returns its stdout, or throws with its stderr. */
async function collect(child: Child, spec: LoadSpec): Promise<string> {
  let out = '';
  child.proc.stdout!.on('data', (c: Buffer | string) => (out += c.toString()));
  const limit = setTimeout(() => void stopChild(child, 1000), (spec.warmupSec + spec.durationSec + SLACK_SEC) * 1000);
  const code = await child.exited;
  clearTimeout(limit);
  killGroup(child);
  if (code !== 0) throw new Error(`${child.name} exited with ${code}: ${child.stderrTail().trim().slice(-2000)}`);
  return out;
}

/** postBodyFile writes (once) a file of `bytes` bytes for autocannon's `-i`. */
function postBodyFile(bytes: number): string {
  const file = join(tmpdir(), `nodehost-bench-post-${bytes}.bin`);
  if (!existsSync(file)) writeFileSync(file, Buffer.alloc(bytes, 'x'));
  return file;
}

/** postScript writes (once) a wrk Lua script that POSTs `bytes` bytes. */
function postScript(bytes: number): string {
  const file = join(tmpdir(), `nodehost-bench-post-${bytes}.lua`);
  if (!existsSync(file))
    writeFileSync(file, `wrk.method = "POST"\nwrk.body = string.rep("x", ${bytes})\nwrk.headers["Content-Type"] = "application/octet-stream"\n`);
  return file;
}

/** loaderEnv drops PORT: autocannon rewrites its URL to localhost:$PORT when it is set. */
function loaderEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.PORT;
  return env;
}

/** findOnPath returns the full path of an executable on PATH, or undefined. */
export function findOnPath(name: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const full = join(dir, name);
    try {
      accessSync(full, constants.X_OK);
      return full;
    } catch {
      // not here
    }
  }
  return undefined;
}

interface AutocannonJson {
  duration: number;
  start: string;
  finish: string;
  errors: number;
  timeouts: number;
  mismatches: number;
  non2xx: number;
  latency: { p50: number; p99: number };
  requests: { total: number };
}
