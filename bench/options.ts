import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { fronts } from './fronts.js';
import { GROWTH_SCENARIO_ID } from './growth.js';
import { RECYCLE_SCENARIO_ID } from './recycle.js';
import { CONNECTIONS_SCENARIO_ID } from './connections.js';
import { REPO_ROOT, scenarios } from './scenarios.js';

/** BenchOptions is the parsed command line of `npm run bench -- [flags]`. */
export interface BenchOptions {
  readonly durationSec: number;
  readonly warmupSec: number;
  readonly runs: number;
  readonly connections: readonly number[];
  /** fronts and scenarios are ids to select; empty means all. */
  readonly fronts: readonly string[];
  readonly scenarios: readonly string[];
  readonly loader: string | undefined;
  readonly nodehostBin: string;
  readonly isJson: boolean;
  readonly isHelp: boolean;
}

/** SCENARIO_HELP lists every scenario id with its description (the table's, `recycle` and `conns10k`). */
const SCENARIO_HELP = [
  ...scenarios.map((s) => [s.id, s.description] as const),
  [
    RECYCLE_SCENARIO_ID,
    'deploys under load: nodehost-2, the app file rewritten while keep-alive and fresh connections send requests (its own report)',
  ] as const,
  [
    CONNECTIONS_SCENARIO_ID,
    'memory: host RSS idle and holding 10,000 keep-alive connections, nodehost-1 and nginx-1 (its own report; ignores --fronts)',
  ] as const,
  [
    GROWTH_SCENARIO_ID,
    'cost as the configuration grows: host CPU per request and RSS with 1/100/1,000 rewrite rules, 1/10/100 applications, 10/100/1,000 web.config folders, and the cold start (its own report; ignores --fronts)',
  ] as const,
];

/** USAGE is printed by --help and after a bad flag; the front and scenario lists come from their tables. */
export const USAGE = `Usage: npm run bench -- [flags]

  --duration <s>       measured seconds per run (default 5; --quick: 2)
  --runs <n>           runs per front and connection count; the median is reported (default 3; --quick: 1)
  --warmup <s>         unmeasured load just before each run (default 1)
  --connections <list> comma-separated connection counts (default 1,50)
  --fronts <list>      front ids: ${fronts.map((f) => f.id).join(', ')} (default all)
  --scenarios <list>   scenario ids (default all):
${SCENARIO_HELP.map(([id, description]) => `                         ${id.padEnd(12)} ${description}`).join('\n')}
  --loader <name>      wrk or autocannon (default: wrk if on PATH, else autocannon; websocket uses its own client)
  --nodehost <path>    the nodehost script to run (default bin/nodehost)
  --quick              smoke check: 1 run of 2 s
  --json               print machine-readable results instead of the table
`;

/** parseOptions parses `argv` (without node and the script) and throws on a bad value. */
export function parseOptions(argv: string[]): BenchOptions {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      duration: { type: 'string' },
      runs: { type: 'string' },
      warmup: { type: 'string' },
      connections: { type: 'string' },
      fronts: { type: 'string' },
      scenarios: { type: 'string' },
      loader: { type: 'string' },
      nodehost: { type: 'string' },
      quick: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const isQuick = values.quick === true;
  return {
    durationSec: number('--duration', values.duration ?? (isQuick ? '2' : '5'), 1, 600),
    warmupSec: number('--warmup', values.warmup ?? '1', 0, 60),
    runs: number('--runs', values.runs ?? (isQuick ? '1' : '3'), 1, 21),
    connections: list(values.connections ?? '1,50').map((c) => number('--connections', c, 1, 10000)),
    fronts: list(values.fronts),
    scenarios: list(values.scenarios),
    loader: values.loader,
    nodehostBin: values.nodehost ? resolve(values.nodehost) : join(REPO_ROOT, 'bin', 'nodehost'),
    isJson: values.json === true,
    isHelp: values.help === true,
  };
}

function number(flag: string, text: string, min: number, max: number): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`${flag}: expected a whole number from ${min} to ${max}, got ${JSON.stringify(text)}`);
  return n;
}

function list(text: string | undefined): string[] {
  return (text ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}
