/**
 * formatStatusTable renders GET /v1/apps as the table of `nodehost status`: one line per worker
 * process (the application's columns on its first), at most 80 columns, colours only when asked
 * (stdout is a TTY).
 */

/** StatusApp is the part of a /v1/apps entry the table shows. */
export interface StatusApp {
  readonly site: string;
  readonly url: string;
  readonly frontDoor?: number;
  readonly state: string;
  readonly generation: number;
  readonly total: number;
  readonly restarts: number;
  readonly lastExitCode: number | null;
  readonly processes: readonly {
    readonly pid: number;
    readonly state: string;
    readonly uptimeMs: number;
    readonly rssBytes: number;
    readonly cpuSeconds: number;
    readonly total: number;
  }[];
}

const COLUMNS = ['SITE', 'APP', 'GEN', 'PID', 'STATE', 'UPTIME', 'RSS', 'CPU', 'REQS', 'RST'] as const;
const WIDTHS = [8, 14, 3, 7, 8, 6, 5, 6, 6, 5];
const RIGHT = new Set([2, 3, 5, 6, 7, 8, 9]);

/** formatStatusTable returns the table text, ending with a newline. */
export function formatStatusTable(apps: readonly StatusApp[], useColour: boolean): string {
  const rows: string[][] = [];
  const states: string[] = [];
  for (const app of apps) {
    const name = app.frontDoor === undefined ? app.url : `${app.url}#${app.frontDoor}`;
    const processes = app.processes.length > 0 ? app.processes : [undefined];
    processes.forEach((p, index) => {
      const first = index === 0;
      rows.push([
        first ? app.site : '',
        first ? name : '',
        first ? String(app.generation) : '',
        p === undefined || p.pid === 0 ? '-' : String(p.pid),
        p?.state ?? app.state,
        p === undefined ? '-' : duration(p.uptimeMs),
        p === undefined ? '-' : bytes(p.rssBytes),
        p === undefined ? '-' : `${p.cpuSeconds.toFixed(1)}s`,
        String(p?.total ?? app.total),
        first ? `${app.restarts}${app.lastExitCode === null ? '' : `/${app.lastExitCode}`}` : '',
      ]);
      states.push(p?.state ?? app.state);
    });
  }
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => fit(cell, WIDTHS[i]!, RIGHT.has(i)))
      .join(' ')
      .trimEnd();
  const header = line(COLUMNS);
  const out = [useColour ? `\u001b[1m${header}\u001b[0m` : header];
  rows.forEach((row, index) => {
    const text = line(row);
    out.push(useColour ? colourState(text, states[index]!) : text);
  });
  if (rows.length === 0) out.push('(no application has started yet: they start on their first request, or with preload="true")');
  return `${out.join('\n')}\n`;
}

function fit(text: string, width: number, isRight: boolean): string {
  const cut = text.length > width ? `${text.slice(0, width - 1)}…` : text;
  return isRight ? cut.padStart(width) : cut.padEnd(width);
}

function colourState(text: string, state: string): string {
  const colour = state === 'ready' || state === 'serving' ? 32 : state === 'failed' || state === 'failing' || state === 'exited' ? 31 : 33;
  return `\u001b[${colour}m${text}\u001b[0m`;
}

function duration(ms: number): string {
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d${Math.floor((s % 86400) / 3600)}h`;
}

function bytes(n: number): string {
  if (n >= 1024 * 1024 * 1024) return `${(n / 1024 / 1024 / 1024).toFixed(1)}G`;
  if (n >= 1024 * 1024) return `${Math.round(n / 1024 / 1024)}M`;
  return `${Math.round(n / 1024)}K`;
}
