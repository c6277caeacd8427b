import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { killGroup, startChild, stopChild } from './children.js';
import { findOnPath, type LoadGenerator, type LoadSpec } from './load.js';

/**
 * tls.ts holds what the TLS scenarios need besides the fronts: the one certificate every front
 * presents (made once per run with openssl: ECDSA P-256, self-signed for localhost), and the
 * two load generators wrk cannot stand in for:
 *   h2load (Debian's nghttp2-client): HTTP/2, `c` connections each carrying 50 concurrent streams;
 *   openssl s_time: new TLS connections one after another, each with one HTTP/1.0 GET, either
 *     full handshakes (`-new`) or resumed ones (`-reuse`, the session of the first connection).
 * The HTTPS keep-alive scenario uses wrk (or autocannon) as the plain HTTP ones do.
 */

/** CIPHERS are nodehost's TLS 1.2 ciphers (src/server/certificates.ts, which the harness does not import), given to nginx too. */
export const CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** H2_STREAMS is how many requests h2load keeps open at once on each connection. */
export const H2_STREAMS = 50;

/** benchCertificate writes (once per folder) cert.pem and key.pem in `dir` and returns their paths. */
export function benchCertificate(dir: string): { certificate: string; key: string } {
  const certificate = join(dir, 'bench-cert.pem');
  const key = join(dir, 'bench-key.pem');
  if (!existsSync(certificate)) {
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'ec',
        '-pkeyopt',
        'ec_paramgen_curve:prime256v1',
        '-nodes',
        '-keyout',
        key,
        '-out',
        certificate,
        '-days',
        '2',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  }
  return { certificate, key };
}

/** collectOutput waits (bounded by the run's length plus slack) for a generator process and returns its stdout. */
async function collectOutput(child: ReturnType<typeof startChild>, seconds: number): Promise<string> {
  let out = '';
  child.proc.stdout!.on('data', (c: Buffer | string) => (out += c.toString()));
  const limit = setTimeout(() => void stopChild(child, 1000), (seconds + 20) * 1000);
  const code = await child.exited;
  clearTimeout(limit);
  killGroup(child);
  if (code !== 0) throw new Error(`${child.name} exited with ${code}: ${child.stderrTail().trim().slice(-2000)}`);
  return out;
}

/** parseH2load reads h2load's summary: requests done, req/s, status counts, and the request time percentiles it prints. */
export function parseH2load(out: string): { requests: number; requestsPerSec: number; non2xx: number; errors: number; p50Ms: number; meanMs: number } {
  const rate = /finished in [\d.]+m?s, ([\d.]+) req\/s/.exec(out);
  const counts = /requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(out);
  const codes = /status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx/.exec(out);
  const time = /time for request:\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)\s+([\d.]+)(us|ms|s)/.exec(out);
  if (rate === null || counts === null || codes === null) throw new Error(`cannot read h2load's output:\n${out.slice(-2000)}`);
  const ms = (value: string, unit: string) => Number(value) * (unit === 'us' ? 0.001 : unit === 's' ? 1000 : 1);
  return {
    requests: Number(counts[1]),
    requestsPerSec: Number(rate[1]),
    non2xx: Number(codes[2]) + Number(codes[3]) + Number(codes[4]),
    errors: Number(counts[3]) + Number(counts[4]) + Number(counts[5]),
    p50Ms: Number.NaN,
    meanMs: time === null ? Number.NaN : ms(time[5]!, time[6]!),
  };
}

/** h2loadGenerator loads over HTTP/2: `c` connections, H2_STREAMS streams each, for the run's duration after its warm-up. */
export const h2loadGenerator: LoadGenerator = {
  name: 'h2load',
  async start(spec: LoadSpec) {
    const bin = findOnPath('h2load');
    if (bin === undefined) throw new Error('h2load is not installed (apt-get install nghttp2-client)');
    const args = [
      '-c',
      String(spec.connections),
      '-m',
      String(H2_STREAMS),
      '-t',
      '1',
      '-D',
      String(spec.durationSec),
      ...(spec.warmupSec > 0 ? ['--warm-up-time', String(spec.warmupSec)] : []),
      spec.url,
    ];
    const child = startChild('h2load', bin, args);
    const startedAt = Date.now() + spec.warmupSec * 1000;
    const result = collectOutput(child, spec.warmupSec + spec.durationSec).then((out) => {
      const r = parseH2load(out);
      // h2load prints the mean request time, not percentiles: the p50 column shows the mean, p99 stays empty.
      return {
        generator: 'h2load',
        requests: r.requests,
        requestsPerSec: r.requestsPerSec,
        p50Ms: r.meanMs,
        p99Ms: Number.NaN,
        latencyResolutionMs: 0.001,
        errors: r.errors,
        non2xx: r.non2xx,
        mismatches: 0,
        startedAt,
        finishedAt: Date.now(),
      };
    });
    return { child, result };
  },
};

/** sTimeGenerator makes new TLS connections for the run's duration (full or resumed handshakes), counting those per second. */
export function sTimeGenerator(handshakes: 'full' | 'resumed'): LoadGenerator {
  return {
    name: `openssl s_time ${handshakes === 'full' ? '-new' : '-reuse'}`,
    async start(spec: LoadSpec) {
      const url = new URL(spec.url);
      const args = (seconds: number) => [
        's_time',
        '-connect',
        `${url.hostname}:${url.port}`,
        '-www',
        `${url.pathname}${url.search}`,
        handshakes === 'full' ? '-new' : '-reuse',
        '-time',
        String(seconds),
      ];
      if (spec.warmupSec > 0) await collectOutput(startChild('s_time', 'openssl', args(spec.warmupSec)), spec.warmupSec);
      const startedAt = Date.now();
      const child = startChild('s_time', 'openssl', args(spec.durationSec));
      const result = collectOutput(child, spec.durationSec).then((out) => {
        const finishedAt = Date.now();
        // "<n> connections in <s> real seconds": the count is exact, the seconds are whole, so the rate uses the harness's clock.
        const done = /(\d+) connections in [\d.]+ real seconds/.exec(out);
        if (done === null) throw new Error(`cannot read openssl s_time's output:\n${out.slice(-2000)}`);
        const requests = Number(done[1]);
        return {
          generator: 's_time',
          requests,
          requestsPerSec: requests / ((finishedAt - startedAt) / 1000),
          p50Ms: Number.NaN,
          p99Ms: Number.NaN,
          latencyResolutionMs: 0.001,
          errors: 0,
          non2xx: 0,
          mismatches: 0,
          startedAt,
          finishedAt,
        };
      });
      return { child, result };
    },
  };
}
