/**
 * wrk-output.ts reads the text report of `wrk --latency` (wrk 4.x) without a Lua script, so
 * the harness works with Debian's stock wrk. The lines it relies on:
 *
 *   Latency Distribution
 *      50%  143.00us
 *      99%    1.20ms
 *   612345 requests in 5.00s, 52.56MB read
 *   Socket errors: connect 0, read 0, write 0, timeout 0     (only when non-zero)
 *   Non-2xx or 3xx responses: 12                              (only when non-zero)
 *   Requests/sec: 122468.22
 */

/** WrkReport is what the harness needs from one wrk run. */
export interface WrkReport {
  readonly requests: number;
  readonly durationSec: number;
  readonly requestsPerSec: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  /** errors is socket errors (connect, read, write) plus timeouts. */
  readonly errors: number;
  readonly non2xx: number;
}

/** UNIT_US converts wrk's time suffixes (see wrk's units.c) to microseconds, wrk's own unit. */
const UNIT_US: Record<string, number> = { us: 1, ms: 1e3, s: 1e6, m: 6e7, h: 3.6e9 };

/** toMs converts "<number><unit>"; dividing last keeps 143us at exactly 0.143. */
function toMs(value: string, unit: string): number {
  return (Number(value) * UNIT_US[unit]!) / 1000;
}

/** parseWrkOutput parses a wrk report and throws, quoting the text, if a needed line is missing. */
export function parseWrkOutput(text: string): WrkReport {
  const need = (re: RegExp, what: string): RegExpExecArray => {
    const m = re.exec(text);
    if (!m) throw new Error(`wrk output has no ${what}:\n${text.slice(0, 2000)}`);
    return m;
  };
  const total = need(/^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h),/m, 'request count');
  const rps = need(/^Requests\/sec:\s*([\d.]+)/m, 'Requests/sec');
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(text);
  return {
    requests: Number(total[1]),
    durationSec: toMs(total[2]!, total[3]!) / 1000,
    requestsPerSec: Number(rps[1]),
    p50Ms: percentile(text, 50, need),
    p99Ms: percentile(text, 99, need),
    errors: socket ? socket.slice(1, 5).reduce((n, x) => n + Number(x), 0) : 0,
    non2xx: non2xx ? Number(non2xx[1]) : 0,
  };
}

function percentile(_text: string, p: number, need: (re: RegExp, what: string) => RegExpExecArray): number {
  const m = need(new RegExp(`^\\s*${p}(?:\\.0+)?%\\s+([\\d.]+)(us|ms|s|m|h)\\s*$`, 'm'), `${p}% latency line (was --latency passed?)`);
  return toMs(m[1]!, m[2]!);
}
