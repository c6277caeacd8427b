import { mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stopAll } from './children.js';
import { fronts as defaultFronts, type Front } from './fronts.js';
import { pickLoadGenerator, type LoadGenerator } from './load.js';
import { BAD_RESPONSES, NOT_STARTED, measureFront, type CellResult } from './measure.js';
import { USAGE, parseOptions, type BenchOptions } from './options.js';
import { scenarios as defaultScenarios, type Scenario } from './scenarios.js';
import { summarise, type Row } from './summary.js';
import { renderTable } from './table.js';
import { RECYCLE_SCENARIO_ID, formatRecycleReport, runRecycleBench, type RecycleBenchResult } from './recycle.js';
import { CONNECTIONS_SCENARIO_ID, formatConnectionsReport, isConnectionsClean, runConnectionsBench, type ConnectionsFrontReport } from './connections.js';
import { GROWTH_SCENARIO_ID, formatGrowthReport, isGrowthClean, runGrowthBench, type GrowthReport } from './growth.js';
import { websocketGenerator } from './websocket.js';
import { h2loadGenerator, sTimeGenerator } from './tls.js';

/**
 * run.ts is `npm run bench`: every selected scenario × front × connection count, the table
 * (or `--json`) on stdout, progress on stderr. Exit code 0 when every cell was measured
 * without errors, 1 otherwise, 2 for a bad command line.
 */

/** BenchReport is what `--json` prints. */
export interface BenchReport {
  readonly meta: {
    readonly generator: string;
    readonly node: string;
    readonly cpus: number;
    readonly cpuModel: string;
    readonly durationSec: number;
    readonly warmupSec: number;
    readonly runs: number;
    readonly startedAt: string;
  };
  readonly rows: Row[];
  readonly notes: string[];
  readonly cells: CellResult[];
  /** The recycle scenario (deploys under load), when it ran. */
  readonly recycle?: readonly RecycleBenchResult[];
  /** The conns10k scenario (memory with 10,000 keep-alive connections), when it ran. */
  readonly connections?: ConnectionsFrontReport[];
  /** The growth scenario (cost as the configuration grows), when it ran. */
  readonly growth?: GrowthReport;
}

/**
 * main runs the benchmark for `argv` over the given tables (tests and experiments may pass
 * their own fronts) and returns the exit code. It removes its temp folder and every child
 * it started, also when it fails.
 */
export async function main(argv: string[], fronts: readonly Front[] = defaultFronts, scenarios: readonly Scenario[] = defaultScenarios): Promise<number> {
  let options: BenchOptions;
  let chosenFronts: Front[];
  let chosenScenarios: Scenario[];
  let generator: LoadGenerator;
  try {
    options = parseOptions(argv);
    chosenFronts = options.fronts.length === 0 ? fronts.filter((front) => front.isOptIn !== true) : pick(fronts, options.fronts, '--fronts');
    // `recycle`, `conns10k` and `growth` are their own drivers (bench/recycle.ts, connections.ts, growth.ts), not rows of the throughput table.
    const ownDrivers = [RECYCLE_SCENARIO_ID, CONNECTIONS_SCENARIO_ID, GROWTH_SCENARIO_ID];
    const tableIds = options.scenarios.filter((id) => !ownDrivers.includes(id));
    chosenScenarios = options.scenarios.length > 0 && tableIds.length === 0 ? [] : pick(scenarios, tableIds, '--scenarios');
    generator = pickLoadGenerator(options.loader);
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (options.isHelp) {
    process.stdout.write(USAGE);
    return 0;
  }
  const log = (line: string): void => void process.stderr.write(`bench: ${line}\n`);

  const tempRoot = mkdtempSync(join(tmpdir(), 'nodehost-bench-'));
  // `exit` also runs after process.exit() from the Ctrl-C handler, where `finally` does not.
  const removeTemp = (): void => rmSync(tempRoot, { recursive: true, force: true });
  process.once('exit', removeTemp);

  const startedAt = new Date().toISOString();
  const cells: CellResult[] = [];
  const notes: string[] = [];
  const wantsRecycle = options.scenarios.length === 0 || options.scenarios.includes(RECYCLE_SCENARIO_ID);
  let recycle: RecycleBenchResult[] | undefined;
  const wantsConnections = options.scenarios.length === 0 || options.scenarios.includes(CONNECTIONS_SCENARIO_ID);
  let connections: ConnectionsFrontReport[] | undefined;
  const wantsGrowth = options.scenarios.length === 0 || options.scenarios.includes(GROWTH_SCENARIO_ID);
  let growth: GrowthReport | undefined;
  try {
    for (const scenario of chosenScenarios) {
      for (const front of chosenFronts) {
        const why = front.unavailable?.({ nodehostBin: options.nodehostBin, scenario });
        if (why) {
          notes.push(`${scenario.id} · ${front.id}: skipped, ${why}`);
          log(`${scenario.id} · ${front.id}: skipped, ${why}`);
          continue;
        }
        // WebSocket scenarios bring their own client (bench/websocket.ts): wrk and autocannon speak HTTP only.
        // The TLS handshake and HTTP/2 scenarios name theirs (bench/tls.ts), with their own connection counts.
        const load = scenario.isWebSocket
          ? websocketGenerator
          : scenario.loader === 'h2load'
            ? h2loadGenerator
            : scenario.loader === undefined
              ? generator
              : sTimeGenerator(scenario.loader === 's_time-full' ? 'full' : 'resumed');
        const plan = { ...options, connections: scenario.connections ?? options.connections };
        const outcome = await measureFront(front, scenario, { nodehostBin: options.nodehostBin, readyTimeoutMs: 20000, tempRoot }, plan, load, log);
        cells.push(...outcome.cells);
        notes.push(...outcome.notes);
      }
    }
    if (wantsRecycle) {
      try {
        recycle = await runRecycleBench({ nodehostBin: options.nodehostBin, tempRoot, isQuick: options.durationSec <= 2 }, log);
      } catch (err) {
        notes.push(`recycle: not measured, ${(err as Error).message.split('\n')[0]}`);
      }
    }
    if (wantsConnections) {
      try {
        connections = await runConnectionsBench({ nodehostBin: options.nodehostBin, tempRoot }, log);
      } catch (err) {
        notes.push(`${CONNECTIONS_SCENARIO_ID}: not measured, ${(err as Error).message.split('\n')[0]}`);
      }
    }
    if (wantsGrowth) {
      const plan = { nodehostBin: options.nodehostBin, tempRoot, durationSec: options.durationSec, warmupSec: options.warmupSec };
      growth = await runGrowthBench(plan, generator, log);
    }
  } finally {
    await stopAll();
    removeTemp();
  }

  const baseline = chosenFronts.find((f) => f.isBaseline)?.id;
  const rows = summarise(cells, baseline);
  notes.push(...rowNotes(rows));
  const report: BenchReport = {
    meta: {
      generator: generator.name,
      node: process.version,
      cpus: availableParallelism(),
      cpuModel: cpus()[0]?.model ?? 'unknown',
      durationSec: options.durationSec,
      warmupSec: options.warmupSec,
      runs: options.runs,
      startedAt,
    },
    rows,
    notes,
    cells,
    ...(recycle === undefined ? {} : { recycle }),
    ...(connections === undefined ? {} : { connections }),
    ...(growth === undefined ? {} : { growth }),
  };
  process.stdout.write(options.isJson ? `${JSON.stringify(report, null, 2)}\n` : formatReport(report, chosenScenarios));
  if (!options.isJson && recycle !== undefined) process.stdout.write(`\n${formatRecycleReport(recycle)}`);
  if (!options.isJson && connections !== undefined) process.stdout.write(`\n${formatConnectionsReport(connections)}`);
  if (!options.isJson && growth !== undefined) process.stdout.write(`\n${formatGrowthReport(growth)}`);
  const isRecycleClean = !wantsRecycle || recycle?.every(({ report }) => report.failures + report.staleResponses === 0) === true;
  const isConnectionsRunClean = !wantsConnections || (connections !== undefined && isConnectionsClean(connections));
  const isClean =
    rows.every((r) => !r.error && r.errors + r.non2xx + r.mismatches === 0) &&
    (rows.length > 0 || chosenScenarios.length === 0) &&
    isRecycleClean &&
    isConnectionsRunClean &&
    (growth === undefined || isGrowthClean(growth));
  return isClean ? 0 : 1;
}

function formatReport(report: BenchReport, scenarios: readonly Scenario[]): string {
  const m = report.meta;
  const titles = new Map(scenarios.map((s) => [s.id, `${s.id}: ${s.description}`]));
  const head =
    `nodehost bench · ${m.generator}${scenarios.some((s) => s.isWebSocket) ? ` (websocket: ${websocketGenerator.name})` : ''} · node ${m.node} · ${m.cpus} CPU (${m.cpuModel.trim()})\n` +
    `each number is the median of ${m.runs} run${m.runs === 1 ? '' : 's'} of ${m.durationSec} s after a ${m.warmupSec} s warm-up; ` +
    `vs app = req/s ÷ app alone's req/s at the same c; cpu% is of one core\n\n`;
  const notes = report.notes.length ? `\n\nnotes:\n${report.notes.map((n) => `  - ${n}`).join('\n')}` : '';
  return `${head}${renderTable(report.rows, titles)}${notes}\n`;
}

/** rowNotes explains failed rows, bad responses and a saturated load generator. */
function rowNotes(rows: readonly Row[]): string[] {
  const notes: string[] = [];
  for (const r of rows) {
    const where = `${r.scenario} · ${r.front} · c=${r.connections}`;
    if (r.error && r.error !== NOT_STARTED && r.error !== BAD_RESPONSES) notes.push(`${where}: ${r.error.split('\n')[0]}`);
    const bad = [
      r.errors && `${r.errors} connection errors/timeouts`,
      r.non2xx && `${r.non2xx} non-2xx`,
      r.mismatches && `${r.mismatches} wrong bodies`,
    ].filter(Boolean);
    if (bad.length) notes.push(`${where}: ${bad.join(', ')} (summed over runs)`);
    // One core is all a single-threaded generator has: near it, req/s measures the generator.
    // Other processes' CPU below a fifth of a core is the usual background of a quiet machine.
    if ((r.otherCpuPercent ?? 0) >= 20)
      notes.push(`${where}: other processes used up to ${Math.round(r.otherCpuPercent!)}% CPU during the runs; the machine was not quiet`);
    if ((r.loaderCpuPercent ?? 0) >= 90)
      notes.push(`${where}: the load generator used ${Math.round(r.loaderCpuPercent!)}% of a core; req/s may be limited by it`);
  }
  return notes;
}

function pick<T extends { id: string }>(table: readonly T[], ids: readonly string[], flag: string): T[] {
  if (ids.length === 0) return [...table];
  const unknown = ids.filter((id) => !table.some((t) => t.id === id));
  if (unknown.length) throw new Error(`${flag}: unknown ${unknown.join(', ')} (known: ${table.map((t) => t.id).join(', ')})`);
  return table.filter((t) => ids.includes(t.id));
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    async (err: unknown) => {
      process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      await stopAll();
      process.exit(1);
    },
  );
}
