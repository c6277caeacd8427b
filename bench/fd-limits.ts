import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

/**
 * fd-limits.ts reads and raises RLIMIT_NOFILE of running processes: holding 10,000
 * connections takes more than 10,000 descriptors on both ends. node raises its soft limit to
 * the hard one when it starts, and its children inherit that; past the hard limit only a
 * privileged prlimit(1) (util-linux) can help, on this process or another.
 */

/** FdLimit is a process's RLIMIT_NOFILE; Infinity stands for "unlimited". */
export interface FdLimit {
  readonly soft: number;
  readonly hard: number;
}

/** parseFdLimit reads the "Max open files" line of a /proc/<pid>/limits text. */
export function parseFdLimit(limits: string): FdLimit {
  const line = /^Max open files\s+(\S+)\s+(\S+)\s+files/m.exec(limits);
  if (!line) throw new Error('no "Max open files" line in the limits');
  const value = (text: string): number => (text === 'unlimited' ? Infinity : Number(text));
  return { soft: value(line[1]!), hard: value(line[2]!) };
}

/** readFdLimit returns the limit of `pid`, or undefined when /proc cannot tell. */
export function readFdLimit(pid: number): FdLimit | undefined {
  try {
    return parseFdLimit(readFileSync(`/proc/${pid}/limits`, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * ensureFdLimit makes the soft limit of `pid` at least `needed` when it is lower: up to
 * `needed` for both (needs privilege above the hard limit), else the soft limit up to the
 * hard one. It returns the limit afterwards, undefined when unknown.
 */
export function ensureFdLimit(pid: number, needed: number): FdLimit | undefined {
  const before = readFdLimit(pid);
  if (before === undefined || before.soft >= needed) return before;
  const hard = before.hard === Infinity ? 'unlimited' : String(Math.max(needed, before.hard));
  const attempts = before.hard === Infinity ? [`${needed}:${hard}`] : [`${needed}:${hard}`, `${before.hard}:${before.hard}`];
  for (const nofile of attempts) {
    try {
      execFileSync('prlimit', ['--pid', String(pid), `--nofile=${nofile}`], { stdio: 'ignore', timeout: 5000 });
      break;
    } catch {
      // not allowed (or no prlimit): try the next, smaller step
    }
  }
  return readFdLimit(pid);
}
