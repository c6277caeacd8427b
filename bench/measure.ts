import { mkdir } from 'node:fs/promises';
import { get } from 'node:http';
import { join } from 'node:path';
import { delay, killGroup } from './children.js';
import type { Front, FrontContext, RunningFront } from './fronts.js';
import type { LoadGenerator, LoadResult } from './load.js';
import { ProcSampler, isSameProcessAlive, type TreeUsage } from './proc-stats.js';
import type { Scenario } from './scenarios.js';

/**
 * measure.ts runs the load plan against one front: start it, and for each connection count
 * the measured runs (each after its warm-up), sampling the front's process tree and the load
 * generator's CPU; then stop the front and check that it left no worker behind.
 */

/** RunMeasurement is one measured run. */
export interface RunMeasurement {
  readonly load: LoadResult;
  /** usage is the front's tree (root and descendants) over the run; absent without /proc. */
  readonly usage: TreeUsage | undefined;
  /** loaderCpuPercent is the load generator's CPU; near 100 (one core) means it was the bottleneck. */
  readonly loaderCpuPercent: number | undefined;
  /**
   * otherCpuPercent is the CPU used on the machine by anything but the front, the generator
   * and the harness: other people's work on a shared machine, or steal on a VM. Well above
   * zero, the run measured a busy machine.
   */
  readonly otherCpuPercent: number | undefined;
}

/** CellResult is every run of one scenario, front and connection count. */
export interface CellResult {
  readonly scenario: string;
  readonly front: string;
  readonly frontLabel: string;
  readonly rootRole: 'host' | 'app';
  readonly connections: number;
  readonly runs: RunMeasurement[];
  /** error is set when the cell could not be measured (front failed, generator failed). */
  error?: string;
}

/** FrontOutcome is what measuring one front produced, including how its stop went. */
export interface FrontOutcome {
  readonly cells: CellResult[];
  /** notes are problems worth printing under the table (lingering workers, odd exits). */
  readonly notes: string[];
}

/** MeasurePlan is the part of the options that shapes the load. */
export interface MeasurePlan {
  readonly connections: readonly number[];
  readonly runs: number;
  readonly durationSec: number;
  readonly warmupSec: number;
}

/** NOT_STARTED is the error of every cell of a front that did not start; the reason is in a note. */
export const NOT_STARTED = 'the front did not start (see its note)';

/** BAD_RESPONSES is the error of a cell whose runs got bad responses; the counts are in a note. */
export const BAD_RESPONSES = 'bad responses (see the note)';

/** STOP_SETTLE_MS bounds the wait for a stopped front's workers to exit before they count as leaked. */
const STOP_SETTLE_MS = 3000;

/**
 * measureFront measures `front` serving `scenario`. It never throws for a front or load
 * failure: the affected cells carry the error and the other fronts still run. `log` gets
 * one progress line per run (the harness sends it to stderr).
 */
export async function measureFront(
  front: Front,
  scenario: Scenario,
  ctx: Omit<FrontContext, 'scenario' | 'workDir'> & { readonly tempRoot: string },
  plan: MeasurePlan,
  generator: LoadGenerator,
  log: (line: string) => void,
): Promise<FrontOutcome> {
  const cells: CellResult[] = [];
  const notes: string[] = [];
  const cellsFor = (rootRole: 'host' | 'app'): CellResult[] =>
    plan.connections.map((connections) => ({ scenario: scenario.id, front: front.id, frontLabel: front.label, rootRole, connections, runs: [] }));

  const workDir = join(ctx.tempRoot, `${scenario.id}-${front.id}`);
  await mkdir(workDir, { recursive: true });
  let running: RunningFront;
  try {
    log(`${scenario.id} · ${front.id}: starting`);
    running = await front.start({ ...ctx, scenario, workDir });
  } catch (err) {
    // The full reason (with the front's output) once in the notes; the cells only point to it.
    notes.push(`${front.id}: did not start: ${message(err).slice(0, 3000)}`);
    for (const cell of cellsFor('host')) cells.push({ ...cell, error: NOT_STARTED });
    return { cells, notes };
  }

  // What one response costs on the wire, for the scenarios that send request headers (compression).
  if (scenario.requestHeaders !== undefined) {
    try {
      notes.push(`${scenario.id} · ${front.id}: ${await describeResponse(running.url, scenario.requestHeaders)}`);
    } catch (err) {
      notes.push(`${scenario.id} · ${front.id}: could not measure one response: ${message(err)}`);
    }
  }
  const sampler = new ProcSampler(running.root.pid, { hostIncludesChildren: running.hostIncludesChildren === true });
  try {
    for (const cell of cellsFor(running.rootRole)) {
      cells.push(cell);
      try {
        await measureCell(cell, running, scenario, plan, generator, sampler, log);
      } catch (err) {
        cell.error = message(err);
        log(`${scenario.id} · ${front.id} · c=${cell.connections}: ${cell.error}`);
      }
    }
  } finally {
    sampler.stop();
    const ended = await running.stop();
    const cleanStops = front.cleanStops ?? ['exit 0'];
    if (!cleanStops.includes(ended)) notes.push(`${front.id}: after SIGTERM it ended with "${ended}" (expected ${cleanStops.join(' or ')})`);
    notes.push(...(await reapLeftovers(front.id, sampler)));
    killGroup(running.root);
  }
  return { cells, notes };
}

async function measureCell(
  cell: CellResult,
  running: RunningFront,
  scenario: Scenario,
  plan: MeasurePlan,
  generator: LoadGenerator,
  sampler: ProcSampler,
  log: (line: string) => void,
): Promise<void> {
  // Every run gets its own warm-up, not only the first: it warms the generator's process
  // as well as the front (JIT, open connections, every worker started).
  // Long bodies are not checked by the generator (a command-line argument has a size limit).
  // An empty expectBody means the body is not checked (compressed bodies).
  const expectBody = scenario.expectBody.length > 0 && scenario.expectBody.length <= 4096 ? scenario.expectBody : undefined;
  const spec = {
    url: running.url,
    connections: cell.connections,
    expectBody,
    durationSec: plan.durationSec,
    warmupSec: plan.warmupSec,
    postBytes: scenario.postBytes,
    closeConnections: scenario.closeConnections,
    headers: scenario.requestHeaders,
  };
  const where = `${scenario.id} · ${cell.front} · c=${cell.connections}`;
  for (let i = 1; i <= plan.runs; i++) {
    if (running.root.hasExited) throw new Error(`${running.root.name} exited (${await running.root.exited}) during the benchmark`);
    const run = await generator.start(spec);
    // The generator has no children worth a /proc scan: sample just its own process.
    const loaderSampler = new ProcSampler(run.child.pid, { rescanMs: 0 });
    let load: LoadResult;
    try {
      load = await run.result;
    } finally {
      loaderSampler.stop();
    }
    const usage = sampler.usage(load.startedAt, load.finishedAt);
    const loaderCpuPercent = loaderSampler.usage(load.startedAt, load.finishedAt)?.root.cpuPercent;
    const otherCpuPercent =
      usage && loaderCpuPercent !== undefined
        ? Math.max(0, usage.machineCpuPercent - usage.root.cpuPercent - usage.descendants.cpuPercent - loaderCpuPercent - usage.harnessCpuPercent)
        : undefined;
    cell.runs.push({ load, usage, loaderCpuPercent, otherCpuPercent });
    const bad = load.errors + load.non2xx + load.mismatches;
    log(`${where} · run ${i}/${plan.runs}: ${Math.round(load.requestsPerSec)} req/s, p99 ${load.p99Ms} ms${bad ? `, ${bad} bad responses` : ''}`);
  }
  // A run that got errors, non-2xx or wrong bodies measured something else than serving the
  // scenario (error pages are cheap): the cell is failed, its counts go in the notes.
  if (cell.runs.some((r) => r.load.errors + r.load.non2xx + r.load.mismatches > 0)) cell.error = BAD_RESPONSES;
  else if (cell.runs.some((r) => r.load.requests === 0)) cell.error = 'a run completed no request at all';
}

/**
 * reapLeftovers waits (bounded) for every descendant the sampler saw to be gone once the
 * front has stopped, SIGKILLs the ones that stay, and returns a note for each: a host that
 * leaves workers running after SIGTERM is a bug this benchmark should surface.
 */
async function reapLeftovers(frontId: string, sampler: ProcSampler): Promise<string[]> {
  const deadline = Date.now() + STOP_SETTLE_MS;
  let alive = sampler.seenDescendants().filter(isSameProcessAlive);
  while (alive.length > 0 && Date.now() < deadline) {
    await delay(50);
    alive = alive.filter(isSameProcessAlive);
  }
  for (const r of alive) {
    try {
      process.kill(r.pid, 'SIGKILL');
    } catch {
      // gone meanwhile
    }
  }
  return alive.map((r) => `${frontId}: process ${r.pid} (a child of the front) was still running ${STOP_SETTLE_MS} ms after the front stopped; killed`);
}

/** describeResponse sends one GET with `headers` and tells its body bytes on the wire and its Content-Encoding. */
function describeResponse(url: string, headers: Readonly<Record<string, string>>): Promise<string> {
  return new Promise((resolve, reject) => {
    get(url, { headers, agent: false }, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve(`${bytes.toLocaleString('en-US')} body bytes per response (Content-Encoding: ${res.headers['content-encoding'] ?? 'none'})`));
      res.on('error', reject);
    }).on('error', reject);
  });
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
