import type { Row } from './summary.js';

/**
 * table.ts prints the report rows as a plain-text table, numbers right-aligned, one block per
 * scenario. "-" means not measured or not applicable (the app alone has no host process).
 */

interface Column {
  readonly title: string;
  readonly isLeft?: boolean;
  cell(row: Row): string;
}

const COLUMNS: readonly Column[] = [
  { title: 'front', isLeft: true, cell: (r) => r.label },
  { title: 'c', cell: (r) => String(r.connections) },
  { title: 'req/s', cell: (r) => fixed(r.requestsPerSec, 0) },
  { title: 'p50 ms', cell: (r) => latency(r.p50Ms, r.latencyResolutionMs) },
  { title: 'p99 ms', cell: (r) => latency(r.p99Ms, r.latencyResolutionMs) },
  { title: 'vs app', cell: (r) => fixed(r.ratio, 2) },
  { title: 'vs nginx', cell: (r) => fixed(r.nginxRatio, 2) },
  { title: 'host cpu%', cell: (r) => fixed(r.hostCpuPercent, 0) },
  { title: 'host MB', cell: (r) => fixed(r.hostRssMB, 1) },
  { title: 'app cpu%', cell: (r) => fixed(r.appCpuPercent, 0) },
  { title: 'app MB', cell: (r) => fixed(r.appRssMB, 1) },
  { title: 'cpu µs/req', cell: (r) => fixed(r.cpuUsPerRequest, 1) },
];

/** renderTable returns the table for `rows`, with a title line per scenario. */
export function renderTable(rows: readonly Row[], scenarioTitles: ReadonlyMap<string, string>): string {
  const blocks: string[] = [];
  for (const scenario of new Set(rows.map((r) => r.scenario))) {
    const mine = rows.filter((r) => r.scenario === scenario);
    const cells = [COLUMNS.map((c) => c.title), ...mine.map((r) => (r.error ? errorCells(r) : COLUMNS.map((c) => c.cell(r))))];
    const widths = COLUMNS.map((_, i) => Math.max(...cells.map((line) => line[i]!.length)));
    const lines = cells.map((line) =>
      line
        .map((text, i) => (COLUMNS[i]!.isLeft ? text.padEnd(widths[i]!) : text.padStart(widths[i]!)))
        .join('  ')
        .trimEnd(),
    );
    lines.splice(1, 0, widths.map((w) => '-'.repeat(w)).join('  '));
    blocks.push(`${scenarioTitles.get(scenario) ?? scenario}\n${lines.join('\n')}`);
  }
  return blocks.join('\n\n');
}

/**
 * errorCells fills a failed row with its label, c, "failed" and what went wrong in short (bad
 * response counts, or "see notes"); the full reason goes in the notes.
 */
function errorCells(r: Row): string[] {
  const bad = [r.errors && `${r.errors} errors`, r.non2xx && `${r.non2xx} non-2xx`, r.mismatches && `${r.mismatches} wrong bodies`].filter(Boolean).join(', ');
  return COLUMNS.map((_c, i) => (i === 0 ? r.label : i === 1 ? String(r.connections) : i === 2 ? 'failed' : i === 3 ? bad || 'see notes' : ''));
}

function fixed(n: number | undefined, digits: number): string {
  if (n === undefined) return '-';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/**
 * latency prints milliseconds at the generator's resolution. autocannon's histogram drops
 * the fraction (1.7 ms is recorded as 1), so its 0 means "under 1 ms" and is printed so.
 */
function latency(ms: number | undefined, resolution: number | undefined): string {
  if (ms === undefined) return '-';
  if (resolution !== undefined && resolution >= 1) return ms < resolution ? `<${resolution}` : fixed(ms, 0);
  return fixed(ms, 2);
}
