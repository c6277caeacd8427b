/**
 * The `conns10k` scenario of `npm run bench`: memory of the host process idle and while it
 * holds 10,000 keep-alive client connections, for nodehost (1 worker) and nginx (1 worker),
 * both started exactly as for the throughput table (bench/fronts.ts) with the `hello` site.
 * Per front: one request, 1 s pause, RSS ("idle"); 10,000 connections opened from this
 * process in batches, each answering one GET, kept alive by rounds of requests (nodehost
 * closes a connection idle for 5 s), RSS after a round ("10k open"); all closed, 2 s pause,
 * RSS ("after close"). The host is nodehost's own process (not its workers), or nginx's
 * master and workers; the app (nodehost's worker, or the app behind nginx) is reported apart.
 * With too few file descriptors (see fd-limits.ts) it opens only what fits and says so.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { delay } from './children.js';
import { ensureFdLimit, readFdLimit, type FdLimit } from './fd-limits.js';
import { nginxFront, nodehostFront, type Front, type RunningFront } from './fronts.js';
import { KeepAlivePool } from './keep-alive-pool.js';
import { descendantsOf, readProc } from './proc-stats.js';
import { scenarios } from './scenarios.js';

/** CONNECTIONS_SCENARIO_ID selects this scenario in `--scenarios`. */
export const CONNECTIONS_SCENARIO_ID = 'conns10k';

/** TARGET_CONNECTIONS is how many connections each front is asked to hold. */
export const TARGET_CONNECTIONS = 10_000;

/** Spare descriptors beyond one per connection: listeners, logs, upstream sockets. */
const SPARE_FDS = 200;
const BATCH = 250;
const IN_FLIGHT = 200;
/** A connection idle this long gets a request before it nears nodehost's 5 s keep-alive timeout. */
const REFRESH_IDLE_MS = 2000;
const OPEN_DEADLINE_MS = 60_000;
const HOLD_ROUNDS = 3;

/** ConnectionsFrontReport is one front's figures; RSS in KiB. */
export interface ConnectionsFrontReport {
  readonly front: string;
  readonly label: string;
  readonly target: number;
  /** reached is how many connections were open and answering at the "10k open" reading. */
  readonly reached: number;
  /** failures maps why a connection failed to how many failed so. */
  readonly failures: Record<string, number>;
  readonly openSec: number;
  readonly hostRssKiB: RssSeries;
  readonly appRssKiB: RssSeries;
  /** kibPerConnection is (host RSS open − idle) ÷ target; undefined when the target was not reached. */
  readonly kibPerConnection: number | undefined;
  /** fdLimits are the soft RLIMIT_NOFILE of this process and of the host's processes (lowest). */
  readonly fdLimits: { readonly loader: number | undefined; readonly host: number | undefined };
  readonly error?: string;
}

/** RssSeries is one group of processes' RSS at each reading, and its peak while connections were open. */
export interface RssSeries {
  readonly idle: number;
  readonly open: number;
  readonly peak: number;
  readonly afterClose: number;
}

export interface ConnectionsBenchOptions {
  readonly nodehostBin: string;
  readonly tempRoot: string;
}

/** connectionsFronts are the fronts compared, the same objects as the throughput table's. */
const connectionsFronts: readonly Front[] = [nodehostFront(1), nginxFront(1)];

/** runConnectionsBench measures every front in turn; a front that fails is reported with its error. */
export async function runConnectionsBench(options: ConnectionsBenchOptions, log: (line: string) => void): Promise<ConnectionsFrontReport[]> {
  const hello = scenarios.find((s) => s.id === 'hello');
  if (!hello) throw new Error('the hello scenario is missing from bench/scenarios.ts');
  const reports: ConnectionsFrontReport[] = [];
  for (const front of connectionsFronts) {
    const why = front.unavailable?.({ nodehostBin: options.nodehostBin, scenario: hello });
    if (why) {
      reports.push(emptyReport(front, `skipped, ${why}`));
      continue;
    }
    const workDir = join(options.tempRoot, `${CONNECTIONS_SCENARIO_ID}-${front.id}`);
    let running: RunningFront | undefined;
    try {
      running = await front.start({ scenario: hello, workDir, nodehostBin: options.nodehostBin, readyTimeoutMs: 20_000 });
      reports.push(await measure(front, running, hello.urlPath, hello.expectBody, log));
    } catch (err) {
      reports.push(emptyReport(front, (err as Error).message.split('\n')[0]!));
    } finally {
      await running?.stop();
    }
  }
  return reports;
}

async function measure(front: Front, running: RunningFront, path: string, expectBody: string, log: (line: string) => void): Promise<ConnectionsFrontReport> {
  const port = Number(new URL(running.url).port);
  const groups = processGroups(front, running.root.pid);
  const neededFds = TARGET_CONNECTIONS + SPARE_FDS;
  const loaderLimit = ensureFdLimit(process.pid, neededFds);
  const hostLimits = groups.clientHolders.map((pid) => ensureFdLimit(pid, neededFds));
  const hostLimit = lowest(hostLimits);
  for (const [who, limit] of [
    ['this process', loaderLimit],
    [`${front.id}`, hostLimit],
  ] as const) {
    if (limit !== undefined && limit.soft < neededFds)
      log(`${CONNECTIONS_SCENARIO_ID} · ${front.id}: ${who} may open only ${limit.soft} files; ${TARGET_CONNECTIONS} connections need ${neededFds}`);
  }
  // Below the limit, with room to spare: at the limit this process could not even read /proc.
  const attempted = Math.max(0, Math.min(TARGET_CONNECTIONS, ...[loaderLimit, hostLimit].map((l) => (l === undefined ? Infinity : l.soft - SPARE_FDS))));

  const pool = new KeepAlivePool({ port, path, expectBody });
  const warm = new KeepAlivePool({ port, path, expectBody });
  await warm.grow(1, 1, Date.now() + 10_000, async () => undefined);
  warm.close();
  await delay(1000);
  const idle = groups.read();

  log(`${CONNECTIONS_SCENARIO_ID} · ${front.id}: opening ${attempted} keep-alive connections`);
  const peak = { host: idle.host, app: idle.app };
  const sampler = setInterval(() => {
    try {
      const now = groups.sample();
      peak.host = Math.max(peak.host, now.host);
      peak.app = Math.max(peak.app, now.app);
    } catch {
      // a missed sample only lowers the peak a little; the readings proper are checked
    }
  }, 200);
  let open: { host: number; app: number };
  let reached: number;
  let failures: Map<string, number>;
  const openedAt = Date.now();
  let openSec: number;
  try {
    await pool.grow(attempted, BATCH, openedAt + OPEN_DEADLINE_MS, () => pool.round(IN_FLIGHT, REFRESH_IDLE_MS));
    openSec = (Date.now() - openedAt) / 1000;
    // Each round asks every connection once; the reading right after one is taken while
    // every connection has answered within the round, well inside any keep-alive timeout.
    for (let i = 0; i < HOLD_ROUNDS; i++) await pool.round(IN_FLIGHT);
    open = groups.read();
    reached = pool.open;
    failures = pool.failures();
  } finally {
    clearInterval(sampler);
    pool.close();
  }
  peak.host = Math.max(peak.host, open.host);
  peak.app = Math.max(peak.app, open.app);
  await delay(2000);
  const afterClose = groups.read();
  return {
    front: front.id,
    label: front.label,
    target: TARGET_CONNECTIONS,
    reached,
    failures: Object.fromEntries(failures),
    openSec: Math.round(openSec * 10) / 10,
    hostRssKiB: { idle: idle.host, open: open.host, peak: peak.host, afterClose: afterClose.host },
    appRssKiB: { idle: idle.app, open: open.app, peak: peak.app, afterClose: afterClose.app },
    kibPerConnection: reached >= TARGET_CONNECTIONS ? Math.round(((open.host - idle.host) / TARGET_CONNECTIONS) * 100) / 100 : undefined,
    fdLimits: { loader: loaderLimit?.soft, host: hostLimit?.soft },
  };
}

/**
 * ProcessGroups splits a front's processes into the host and the app. nodehost: the host is
 * its own process, the app its workers. nginx: the host is every `nginx` process (master and
 * workers), the app the node processes below the master. `clientHolders` hold the client
 * sockets: nodehost's process, nginx's workers.
 */
interface ProcessGroups {
  readonly clientHolders: readonly number[];
  /** read is a reading proper; it throws when a host process cannot be read. */
  read(): { host: number; app: number };
  /** sample is a cheaper reading for the peak: the app processes found by the last `read`. */
  sample(): { host: number; app: number };
}

function processGroups(front: Front, rootPid: number): ProcessGroups {
  const rssKiB = (pids: readonly number[]): number =>
    pids.reduce((n, pid) => {
      const reading = readProc(pid);
      if (reading === undefined) throw new Error(`cannot read /proc/${pid} (process gone, or out of file descriptors)`);
      return n + reading.rssBytes / 1024;
    }, 0);
  if (front.id.startsWith('nginx')) {
    const below = descendantsOf(rootPid).map((r) => r.pid);
    const nginxWorkers = below.filter((pid) => commandName(pid) === 'nginx');
    const apps = below.filter((pid) => !nginxWorkers.includes(pid));
    const read = (): { host: number; app: number } => ({ host: rssKiB([rootPid, ...nginxWorkers]), app: rssKiB(apps) });
    return { clientHolders: nginxWorkers, read, sample: read };
  }
  // nodehost may replace a worker: a reading proper looks its workers up again.
  let workers: number[] = [];
  return {
    clientHolders: [rootPid],
    read: () => {
      workers = descendantsOf(rootPid).map((r) => r.pid);
      return { host: rssKiB([rootPid]), app: rssKiB(workers) };
    },
    sample: () => ({ host: rssKiB([rootPid]), app: rssKiB(workers) }),
  };
}

function commandName(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

function lowest(limits: readonly (FdLimit | undefined)[]): FdLimit | undefined {
  const known = limits.filter((l): l is FdLimit => l !== undefined);
  return known.length === 0 ? undefined : known.reduce((a, b) => (a.soft <= b.soft ? a : b));
}

function emptyReport(front: Front, error: string): ConnectionsFrontReport {
  const none: RssSeries = { idle: 0, open: 0, peak: 0, afterClose: 0 };
  return {
    front: front.id,
    label: front.label,
    target: TARGET_CONNECTIONS,
    reached: 0,
    failures: {},
    openSec: 0,
    hostRssKiB: none,
    appRssKiB: none,
    kibPerConnection: undefined,
    fdLimits: { loader: readFdLimit(process.pid)?.soft, host: undefined },
    error,
  };
}

/** isConnectionsClean is true when every front held every connection without a failure. */
export function isConnectionsClean(reports: readonly ConnectionsFrontReport[]): boolean {
  return reports.every((r) => r.error === undefined && r.reached >= r.target && Object.keys(r.failures).length === 0);
}

/** formatConnectionsReport renders the figures for the text report (RSS in MiB). */
export function formatConnectionsReport(reports: readonly ConnectionsFrontReport[]): string {
  const mib = (kib: number): string => (kib / 1024).toFixed(1);
  const header = ['front', 'host idle', `host ${TARGET_CONNECTIONS} open`, 'host peak', 'after close', 'KiB/conn', 'app idle', 'app open', 'opened in'];
  const rows: string[][] = [];
  const notes: string[] = [];
  for (const r of reports) {
    if (r.error !== undefined) {
      rows.push([r.front, ...header.slice(1).map(() => '-')]);
      notes.push(`${r.front}: not measured, ${r.error}`);
      continue;
    }
    const isShort = r.reached < r.target;
    rows.push([
      r.front,
      mib(r.hostRssKiB.idle),
      isShort ? `only ${r.reached} open` : mib(r.hostRssKiB.open),
      mib(r.hostRssKiB.peak),
      mib(r.hostRssKiB.afterClose),
      r.kibPerConnection === undefined ? '-' : r.kibPerConnection.toFixed(1),
      mib(r.appRssKiB.idle),
      mib(r.appRssKiB.open),
      `${r.openSec} s`,
    ]);
    const failed = Object.entries(r.failures).map(([why, n]) => `${n} × ${why}`);
    if (isShort)
      notes.push(
        `${r.front}: held ${r.reached} of ${r.target} connections (file limits: this process ${r.fdLimits.loader ?? '?'}, host ${r.fdLimits.host ?? '?'})`,
      );
    if (failed.length) notes.push(`${r.front}: failed connections: ${failed.join('; ')}`);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!)))
      .join('  ')
      .trimEnd();
  return (
    `connections: host RSS (MiB) idle / with ${TARGET_CONNECTIONS} keep-alive connections / after close, per front; ` +
    `KiB per connection = (open − idle) ÷ ${TARGET_CONNECTIONS}; host = nodehost's own process or nginx master + worker, app = the app's node process\n` +
    `${line(header)}\n${rows.map(line).join('\n')}\n` +
    (notes.length ? `${notes.map((n) => `  - ${n}`).join('\n')}\n` : '')
  );
}
