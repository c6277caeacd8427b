import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';

/**
 * proc-stats.ts samples CPU time and RSS of a process tree from /proc while load runs:
 * the root process (nodehost itself, or the app when it runs alone) and its descendants
 * (nodehost's workers). Linux only; elsewhere every reading is empty and the table shows "-".
 */

/** ProcReading is one process at one instant. */
export interface ProcReading {
  readonly pid: number;
  readonly ppid: number;
  /** starttime (clock ticks after boot) tells a process from a later one with the same pid. */
  readonly starttime: number;
  /** cpuTicks is user + system time so far, in clock ticks. */
  readonly cpuTicks: number;
  readonly rssBytes: number;
}

/** GroupUsage is the usage of one part of the tree over a window. */
export interface GroupUsage {
  /** cpuPercent is CPU time over wall time; 100 means one core busy the whole window. */
  readonly cpuPercent: number;
  /** rssPeakMB is the highest summed RSS seen in the window, in MiB. */
  readonly rssPeakMB: number;
  /** processes is the most processes seen at once in this part of the tree. */
  readonly processes: number;
}

/** TreeUsage splits a window's usage into the root process and its descendants. */
export interface TreeUsage {
  readonly root: GroupUsage;
  readonly descendants: GroupUsage;
  /** cpuMsTotal is CPU milliseconds used by the whole tree in the window. */
  readonly cpuMsTotal: number;
  /** machineCpuPercent is every process's CPU in the window (100 = one core; steal included). */
  readonly machineCpuPercent: number;
  /** harnessCpuPercent is the benchmark harness's own share of it (sampling, bookkeeping). */
  readonly harnessCpuPercent: number;
  readonly windowMs: number;
}

/** CLOCK_TICKS is the kernel's USER_HZ (getconf CLK_TCK); 100 on every common Linux build. */
export const CLOCK_TICKS = readClockTicks();
const hasProc = existsSync('/proc/self/stat');

/** readProc reads one process from /proc, or returns undefined if it is gone. */
export function readProc(pid: number): ProcReading | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // f[0] is field 3 (state); utime is field 14, stime 15, starttime 22 (proc(5)).
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rssKb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? 0);
    return { pid, ppid: Number(f[1]), starttime: Number(f[19]), cpuTicks: Number(f[11]) + Number(f[12]), rssBytes: rssKb * 1024 };
  } catch {
    return undefined;
  }
}

/**
 * descendantsOf lists every live descendant of `root`. The kernel's `children` files would
 * be cheaper but need CONFIG_PROC_CHILDREN, which many kernels lack, so this scans /proc for
 * parent pids: a few hundred small reads, done a few times a second.
 */
export function descendantsOf(root: number): ProcReading[] {
  if (!hasProc) return [];
  const byParent = new Map<number, ProcReading[]>();
  for (const name of readdirSync('/proc')) {
    if (name.charCodeAt(0) < 48 || name.charCodeAt(0) > 57) continue; // not a pid
    const r = readProc(Number(name));
    if (!r) continue;
    const siblings = byParent.get(r.ppid);
    if (siblings) siblings.push(r);
    else byParent.set(r.ppid, [r]);
  }
  const found: ProcReading[] = [];
  const queue = [root];
  // Bounded: a pid is visited once, and /proc listed a finite number of them.
  for (let i = 0; i < queue.length; i++) {
    for (const c of byParent.get(queue[i]!) ?? []) {
      found.push(c);
      queue.push(c.pid);
    }
  }
  return found;
}

interface Sample {
  readonly at: number;
  readonly root: ProcReading | undefined;
  readonly descendants: readonly ProcReading[];
  /** machineBusyTicks is the whole machine's non-idle time (all CPUs), from /proc/stat. */
  readonly machineBusyTicks: number;
  /** selfTicks is the harness's own CPU time, so it can be told apart from other load. */
  readonly selfTicks: number;
}

/** SamplerOptions tunes a ProcSampler. */
export interface SamplerOptions {
  /** intervalMs is the time between samples (default 200). */
  readonly intervalMs?: number;
  /** rescanMs is how often /proc is scanned for new descendants (default 1000; 0: never). */
  readonly rescanMs?: number;
  /**
   * hostIncludesChildren counts the root's own children with the root (usage().root) and only
   * the deeper descendants as `descendants`: nodehost with hostProcesses > 1 is a primary whose
   * children are front doors, and the app workers are their children. Default false.
   */
  readonly hostIncludesChildren?: boolean;
}

/**
 * ProcSampler samples a process tree every `intervalMs` until `stop()`. It keeps every
 * sample (a run of seconds is tens of samples) and computes usage over any window later,
 * so the window can be the load generator's own start and finish, known only afterwards.
 * A full /proc scan costs a few milliseconds of the CPU the benchmark shares with what it
 * measures, so between scans it only re-reads the processes it already knows.
 */
export class ProcSampler {
  readonly #rootPid: number;
  readonly #rescanMs: number;
  readonly #hostIncludesChildren: boolean;
  readonly #samples: Sample[] = [];
  readonly #seen = new Map<number, ProcReading>();
  #known: readonly ProcReading[] = [];
  #scannedAt = 0;
  #timer: ReturnType<typeof setInterval> | undefined;

  constructor(rootPid: number, { intervalMs = 200, rescanMs = 1000, hostIncludesChildren = false }: SamplerOptions = {}) {
    this.#rootPid = rootPid;
    this.#rescanMs = rescanMs;
    this.#hostIncludesChildren = hostIncludesChildren;
    this.#take(true);
    this.#timer = setInterval(() => this.#take(false), intervalMs);
    this.#timer.unref();
  }

  /** stop takes a last sample and stops sampling. Idempotent. */
  stop(): void {
    if (!this.#timer) return;
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#take(false);
  }

  /** seenDescendants lists every descendant seen so far (for leak checks after a stop). */
  seenDescendants(): ProcReading[] {
    return [...this.#seen.values()];
  }

  /**
   * usage reports CPU and peak RSS between the first sample at or after `from` and the last
   * at or before `to` (epoch ms). With fewer than two samples inside, it widens to the
   * samples around the window; with no /proc it returns undefined.
   */
  usage(from: number, to: number): TreeUsage | undefined {
    const s = this.#samples;
    if (!hasProc || s.length < 2) return undefined;
    let a = s.findIndex((x) => x.at >= from);
    let b = s.length - 1;
    while (b >= 0 && s[b]!.at > to) b--;
    if (a < 0 || b < 0 || b - a < 1) {
      a = Math.max(0, (a < 0 ? s.length : a) - 1);
      b = Math.min(s.length - 1, Math.max(a + 1, b + 1));
    }
    const first = s[a]!;
    const last = s[b]!;
    const windowMs = last.at - first.at;
    const isHost = (r: ProcReading): boolean => this.#hostIncludesChildren && r.ppid === this.#rootPid;
    const hostOf = (x: Sample): readonly ProcReading[] => [...(x.root ? [x.root] : []), ...x.descendants.filter(isHost)];
    const appOf = (x: Sample): readonly ProcReading[] => (this.#hostIncludesChildren ? x.descendants.filter((r) => !isHost(r)) : x.descendants);
    const ticksRoot = cpuDelta(hostOf(first), hostOf(last));
    const ticksDesc = cpuDelta(appOf(first), appOf(last));
    const inWindow = s.slice(a, b + 1);
    const percent = (ticks: number): number => (windowMs > 0 ? (ticks / CLOCK_TICKS / (windowMs / 1000)) * 100 : 0);
    const group = (ticks: number, pick: (x: Sample) => readonly ProcReading[]): GroupUsage => ({
      cpuPercent: percent(ticks),
      rssPeakMB: Math.max(0, ...inWindow.map((x) => pick(x).reduce((n, r) => n + r.rssBytes, 0))) / 1048576,
      processes: Math.max(0, ...inWindow.map((x) => pick(x).length)),
    });
    return {
      root: group(ticksRoot, hostOf),
      descendants: group(ticksDesc, appOf),
      cpuMsTotal: ((ticksRoot + ticksDesc) / CLOCK_TICKS) * 1000,
      machineCpuPercent: percent(last.machineBusyTicks - first.machineBusyTicks),
      harnessCpuPercent: percent(last.selfTicks - first.selfTicks),
      windowMs,
    };
  }

  #take(isFirst: boolean): void {
    const at = Date.now();
    const root = readProc(this.#rootPid);
    let descendants: readonly ProcReading[] = [];
    if (root && this.#rescanMs > 0 && (isFirst || at - this.#scannedAt >= this.#rescanMs)) {
      descendants = descendantsOf(this.#rootPid);
      this.#scannedAt = at;
    } else if (root) {
      descendants = this.#known.map((k) => readProc(k.pid)).filter((r): r is ProcReading => r !== undefined && this.#isKnown(r));
    }
    this.#known = descendants;
    for (const d of descendants) this.#seen.set(d.pid, d);
    this.#samples.push({ at, root, descendants, machineBusyTicks: readMachineBusyTicks(), selfTicks: readProc(process.pid)?.cpuTicks ?? 0 });
  }

  /** #isKnown rejects a pid that was reused by an unrelated process since the last scan. */
  #isKnown(r: ProcReading): boolean {
    return this.#known.some((k) => k.pid === r.pid && k.starttime === r.starttime);
  }
}

/**
 * cpuDelta sums each process's CPU ticks between two samples. A process new in `after`
 * counts from zero (it was born inside the window); one that died in between is lost
 * after its last sample, which only matters for crashing workers.
 */
function cpuDelta(before: readonly ProcReading[], after: readonly ProcReading[]): number {
  const base = new Map(before.map((r) => [`${r.pid}/${r.starttime}`, r.cpuTicks]));
  return after.reduce((n, r) => n + r.cpuTicks - (base.get(`${r.pid}/${r.starttime}`) ?? 0), 0);
}

/** isSameProcessAlive says whether `r` (a reading taken earlier) still runs, pid reuse aside. */
export function isSameProcessAlive(r: ProcReading): boolean {
  const now = readProc(r.pid);
  return now !== undefined && now.starttime === r.starttime;
}

/**
 * readMachineBusyTicks sums the non-idle fields of /proc/stat's `cpu` line (user, nice,
 * system, irq, softirq, steal; guest time is already inside user), or returns 0.
 */
function readMachineBusyTicks(): number {
  try {
    const f = readFileSync('/proc/stat', 'utf8').slice(0, 200).split('\n')[0]!.trim().split(/\s+/).map(Number);
    return f[1]! + f[2]! + f[3]! + f[6]! + f[7]! + f[8]!;
  } catch {
    return 0;
  }
}

function readClockTicks(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).trim());
    return n > 0 ? n : 100;
  } catch {
    return 100;
  }
}
