/**
 * readProcessUsage reads a process's resident memory and CPU time from /proc (Linux), for the
 * admin API and /metrics. It is read when asked (a status or a scrape), never per request.
 */
import fs from 'node:fs';

/** Linux reports utime/stime in clock ticks: USER_HZ is 100 on every architecture nodehost runs on. */
const TICKS_PER_SECOND = 100;

/** ProcessUsage is one reading; zeros when the process is gone or /proc is unavailable. */
export interface ProcessUsage {
  readonly rssBytes: number;
  /** User + system CPU time since the process started. */
  readonly cpuSeconds: number;
}

/** readProcessUsage reads /proc/<pid>/stat and /proc/<pid>/status. Never throws. */
export function readProcessUsage(pid: number): ProcessUsage {
  if (pid <= 0) return { rssBytes: 0, cpuSeconds: 0 };
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may hold spaces) start at field 3 (state).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const cpuSeconds = (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND;
    const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
    return { rssBytes: rss === null ? 0 : Number(rss[1]) * 1024, cpuSeconds };
  } catch {
    return { rssBytes: 0, cpuSeconds: 0 };
  }
}
