import type { CellResult } from './measure.js';

/**
 * summary.ts turns the raw runs into report rows: the median of each number over the runs,
 * and the ratio of each front's throughput to the baseline front's at the same scenario and
 * connection count.
 */

/** Row is one line of the report; numbers are medians over the runs, undefined when unknown. */
export interface Row {
  readonly scenario: string;
  readonly front: string;
  readonly label: string;
  readonly connections: number;
  readonly runs: number;
  readonly requestsPerSec?: number;
  readonly p50Ms?: number;
  readonly p99Ms?: number;
  readonly latencyResolutionMs?: number;
  /** ratio is requestsPerSec over the baseline's; 1 is "as fast as the app alone". */
  readonly ratio?: number;
  /** nginxRatio is a nodehost-N (or nodehost-NxH) row's requestsPerSec over the nginx-N row's (same scenario and c). */
  readonly nginxRatio?: number;
  /** host* describe the front's own process (nodehost); undefined for the app alone. */
  readonly hostCpuPercent?: number;
  readonly hostRssMB?: number;
  /** app* describe the processes running the app: the app alone, or nodehost's workers. */
  readonly appCpuPercent?: number;
  readonly appRssMB?: number;
  readonly appProcesses?: number;
  /** cpuUsPerRequest is the CPU time of host and app together per request, in microseconds. */
  readonly cpuUsPerRequest?: number;
  readonly loaderCpuPercent?: number;
  /** otherCpuPercent is CPU used by unrelated processes during the runs (the highest run's). */
  readonly otherCpuPercent?: number;
  /** errors, non2xx and mismatches are summed over the runs, not medians: any is a problem. */
  readonly errors: number;
  readonly non2xx: number;
  readonly mismatches: number;
  readonly error?: string;
}

/** summarise builds one row per cell, in the cells' order, with ratios against `baselineFront`. */
export function summarise(cells: readonly CellResult[], baselineFront: string | undefined): Row[] {
  const rows = cells.map(toRow);
  // A failed row (no measurement, or bad responses) is neither given nor used as a ratio.
  const valid = (r: Row | undefined): r is Row & { requestsPerSec: number } =>
    r !== undefined && !r.error && r.requestsPerSec !== undefined && r.requestsPerSec > 0;
  return rows.map((row) => {
    const base = rows.find((r) => r.front === baselineFront && r.scenario === row.scenario && r.connections === row.connections);
    const ratio = valid(base) && valid(row) ? row.requestsPerSec / base.requestsPerSec : undefined;
    const peer = row.front.startsWith('nodehost-')
      ? rows.find((r) => r.front === row.front.replace(/^nodehost-(\d+).*$/, 'nginx-$1') && r.scenario === row.scenario && r.connections === row.connections)
      : undefined;
    const nginxRatio = valid(peer) && valid(row) ? row.requestsPerSec / peer.requestsPerSec : undefined;
    return { ...row, ratio, nginxRatio };
  });
}

function toRow(cell: CellResult): Row {
  const runs = cell.runs;
  const isHost = cell.rootRole === 'host';
  const sum = (pick: (r: (typeof runs)[number]) => number): number => runs.reduce((n, r) => n + pick(r), 0);
  return {
    scenario: cell.scenario,
    front: cell.front,
    label: cell.frontLabel,
    connections: cell.connections,
    runs: runs.length,
    requestsPerSec: median(runs.map((r) => r.load.requestsPerSec)),
    p50Ms: median(runs.map((r) => r.load.p50Ms)),
    p99Ms: median(runs.map((r) => r.load.p99Ms)),
    latencyResolutionMs: runs[0]?.load.latencyResolutionMs,
    hostCpuPercent: isHost ? median(runs.map((r) => r.usage?.root.cpuPercent)) : undefined,
    hostRssMB: isHost ? median(runs.map((r) => r.usage?.root.rssPeakMB)) : undefined,
    appCpuPercent: median(runs.map((r) => (isHost ? r.usage?.descendants.cpuPercent : r.usage?.root.cpuPercent))),
    appRssMB: median(runs.map((r) => (isHost ? r.usage?.descendants.rssPeakMB : r.usage?.root.rssPeakMB))),
    appProcesses: median(runs.map((r) => (isHost ? r.usage?.descendants.processes : r.usage ? 1 : undefined))),
    cpuUsPerRequest: median(runs.map((r) => (r.usage && r.load.requests > 0 ? cpuUsPerRequest(r.usage.cpuMsTotal, r.usage.windowMs, r.load) : undefined))),
    loaderCpuPercent: median(runs.map((r) => r.loaderCpuPercent)),
    // The worst run, not the median: one disturbed run is enough to distrust the row.
    otherCpuPercent: max(runs.map((r) => r.otherCpuPercent)),
    errors: sum((r) => r.load.errors),
    non2xx: sum((r) => r.load.non2xx),
    mismatches: sum((r) => r.load.mismatches),
    error: cell.error,
  };
}

/**
 * cpuUsPerRequest divides the CPU used in the sampled window by the requests served in that
 * window, estimated from the run's rate because the sample window and the load window differ
 * by up to one sampling interval at each end.
 */
function cpuUsPerRequest(cpuMs: number, windowMs: number, load: { requestsPerSec: number }): number | undefined {
  const requests = load.requestsPerSec * (windowMs / 1000);
  return requests > 0 ? (cpuMs * 1000) / requests : undefined;
}

/** max of the defined values, or undefined. */
function max(values: readonly (number | undefined)[]): number | undefined {
  const xs = values.filter((v): v is number => v !== undefined);
  return xs.length ? Math.max(...xs) : undefined;
}

/** median of the defined values (mean of the middle two for an even count), or undefined. */
export function median(values: readonly (number | undefined)[]): number | undefined {
  const xs = values.filter((v): v is number => v !== undefined && Number.isFinite(v)).sort((a, b) => a - b);
  if (xs.length === 0) return undefined;
  const mid = xs.length >> 1;
  return xs.length % 2 ? xs[mid] : (xs[mid - 1]! + xs[mid]!) / 2;
}
