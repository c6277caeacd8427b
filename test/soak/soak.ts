/**
 * `npm run soak`: the hardening scenarios at sizes too big for `npm test`, each against a fresh
 * host for a bounded time (about three minutes in all), and one table: scenario, requests,
 * failures, max latency, the host's peak RSS. Exit code 1 when a scenario had failures it
 * must not have (503s in the flood are its expected answer, counted apart).
 */
import { Agent, request } from 'node:http';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import { startHardeningHost, type HardeningHost } from '../hardening/hardening-host.js';

interface Row {
  scenario: string;
  requests: number;
  failures: number;
  maxLatencyMs: number;
  rssPeakMb: number;
  note: string;
}

/** peakRssMb is the host process's peak resident memory (VmHWM) so far. */
function peakRssMb(host: HardeningHost): number {
  const kb = Number(/VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${host.child.pid}/status`, 'utf8'))![1]);
  return Math.round(kb / 102.4) / 10;
}

/**
 * IDLE_CONNECTIONS is how many idle connections the idle scenario holds: 10,000, fewer when this
 * process's open-file limit (which the host inherits) leaves no room for them and the rest.
 */
const IDLE_CONNECTIONS = Math.min(10_000, openFileLimit() - 500);

/** openFileLimit is this process's soft limit of open files (Linux). */
function openFileLimit(): number {
  const match = /^Max open files\s+(\d+|unlimited)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
  return match === null || match[1] === 'unlimited' ? Infinity : Number(match[1]);
}

/** Load counts requests of closed-loop clients: each sends its next request when the last is answered. */
class Load {
  requests = 0;
  failures = 0;
  statuses = new Map<number, number>();
  maxLatencyMs = 0;
  /** The slowest answer of each status. */
  maxLatencyByStatus = new Map<number, number>();
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 1024 });

  /** run keeps `clients` requests in flight to `target` for `seconds`; `isOk` judges a status. */
  async run(
    host: HardeningHost,
    target: string,
    clients: number,
    seconds: number,
    isOk: (status: number) => boolean = (status) => status === 200,
    fresh = false,
  ): Promise<void> {
    const until = performance.now() + seconds * 1000;
    const client = async () => {
      while (performance.now() < until) {
        const startedAt = performance.now();
        const status = await get(host.port, target, fresh ? false : this.#agent);
        const latency = performance.now() - startedAt;
        if (latency > this.maxLatencyMs) this.maxLatencyMs = latency;
        this.requests++;
        this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
        if (latency > (this.maxLatencyByStatus.get(status) ?? 0)) this.maxLatencyByStatus.set(status, latency);
        if (!isOk(status)) this.failures++;
      }
    };
    await Promise.all(Array.from({ length: clients }, client));
    this.#agent.destroy();
  }
}

/** get sends one GET and resolves with its status, or 0 when the request failed. */
function get(port: number, target: string, agent: Agent | false): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: target, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', () => resolve(0));
    });
    req.setTimeout(30_000, () => req.destroy());
    req.on('error', () => resolve(0));
    req.end();
  });
}

/** pidOf asks the app which process answers `target`. */
function pidOf(port: number, target: string): Promise<number> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: target, agent: false }, (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk));
      res.on('end', () => resolve(Number(text)));
    });
    req.on('error', () => resolve(0));
    req.end();
  });
}

async function withHost(yml: string, body: (host: HardeningHost) => Promise<Omit<Row, 'rssPeakMb'>>): Promise<Row> {
  const host = await startHardeningHost(yml);
  try {
    const row = await body(host);
    return { ...row, rssPeakMb: peakRssMb(host) };
  } finally {
    await host.close();
  }
}

const scenarios: [string, () => Promise<Row>][] = [
  [
    'steady keep-alive, 64 clients, 20 s',
    () =>
      withHost('', async (host) => {
        const load = new Load();
        await load.run(host, '/pool/app.js', 64, 20);
        return {
          scenario: 'steady keep-alive',
          requests: load.requests,
          failures: load.failures,
          maxLatencyMs: load.maxLatencyMs,
          note: '64 clients, 2 workers',
        };
      }),
  ],
  [
    'kill -9 a worker every 4 s under 32 clients, 20 s',
    () =>
      withHost('', async (host) => {
        const load = new Load();
        let kills = 0;
        const killer = setInterval(() => {
          void pidOf(host.port, '/pool/app.js/pid').then((pid) => {
            try {
              process.kill(pid, 'SIGKILL');
              kills++;
            } catch {
              // Gone already.
            }
          });
        }, 4000);
        await load.run(host, '/pool/app.js', 32, 20);
        clearInterval(killer);
        return {
          scenario: 'kill -9 under load',
          requests: load.requests,
          failures: load.failures,
          maxLatencyMs: load.maxLatencyMs,
          note: `${kills} workers killed`,
        };
      }),
  ],
  [
    'slowloris: 2000 trickling heads beside 16 clients, 20 s',
    () =>
      withHost('limits:\n  headerTimeout: 5s\n', async (host) => {
        const sockets: net.Socket[] = [];
        let cut = 0;
        for (let i = 0; i < 2000; i++) {
          const socket = net.connect(host.port, '127.0.0.1');
          socket.on('error', () => {});
          socket.on('close', () => cut++);
          socket.write('GET /app.js HTTP/1.1\r\nHost: x\r\n');
          sockets.push(socket);
        }
        const trickle = setInterval(() => {
          for (const socket of sockets) if (!socket.destroyed) socket.write('X');
        }, 500);
        const load = new Load();
        await load.run(host, '/pool/app.js', 16, 20);
        clearInterval(trickle);
        for (const socket of sockets) socket.destroy();
        return {
          scenario: 'slowloris',
          requests: load.requests,
          failures: load.failures,
          maxLatencyMs: load.maxLatencyMs,
          note: `${cut} of 2000 slow heads cut by headerTimeout 5s`,
        };
      }),
  ],
  [
    `${IDLE_CONNECTIONS} idle connections, then 16 clients, 15 s`,
    // maxConnections (default 10000) leaves room for the clients beside the idle connections.
    () =>
      withHost(`limits:\n  maxConnections: ${IDLE_CONNECTIONS + 100}\n`, async (host) => {
        const before = peakRssMb(host);
        const sockets: net.Socket[] = [];
        for (let i = 0; i < IDLE_CONNECTIONS; i++) {
          const socket = net.connect(host.port, '127.0.0.1');
          socket.on('error', () => {});
          sockets.push(socket);
          if (i % 500 === 499) await new Promise((resolve) => socket.once('connect', resolve));
        }
        const load = new Load();
        await load.run(host, '/pool/app.js', 16, 15);
        const open = sockets.filter((socket) => !socket.destroyed).length;
        const perConnection = ((peakRssMb(host) - before) * 1024) / IDLE_CONNECTIONS;
        for (const socket of sockets) socket.destroy();
        return {
          scenario: 'idle connections',
          requests: load.requests,
          failures: load.failures + (IDLE_CONNECTIONS - open),
          maxLatencyMs: load.maxLatencyMs,
          note: `${open} of ${IDLE_CONNECTIONS} idle still open after the load, ~${perConnection.toFixed(1)} KB of host RSS each`,
        };
      }),
  ],
  [
    'connection flood: a new connection per request, 128 clients, 15 s',
    () =>
      withHost('', async (host) => {
        const load = new Load();
        await load.run(host, '/pool/app.js', 128, 15, undefined, true);
        // Service once the flood stops: a plain request on a fresh connection is answered.
        const after = await get(host.port, '/pool/app.js', false);
        return {
          scenario: 'connection flood',
          requests: load.requests + 1,
          failures: load.failures + (after === 200 ? 0 : 1),
          maxLatencyMs: load.maxLatencyMs,
          note: `no keep-alive; a plain request after the flood: ${after || 'failed'}`,
        };
      }),
  ],
  [
    'over capacity: 400 clients on a 200 ms route with 50 slots, 15 s',
    () =>
      withHost('', async (host) => {
        const load = new Load();
        await load.run(host, '/flood/app.js/slow', 400, 15, (status) => status === 200 || status === 503);
        const busy = load.statuses.get(503) ?? 0;
        return {
          scenario: 'over capacity (503)',
          requests: load.requests,
          failures: load.failures,
          maxLatencyMs: load.maxLatencyMs,
          note: `${load.statuses.get(200) ?? 0} served, ${busy} answered 503 (slowest 503: ${(load.maxLatencyByStatus.get(503) ?? 0).toFixed(0)} ms)`,
        };
      }),
  ],
  [
    'bad input mix beside 16 clients, 15 s',
    () =>
      withHost('', async (host) => {
        const bad = [
          'POST /app.js HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
          'GET /app.js HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n',
          'GET / HTTP/1.1\nHost: x\n\n',
          '\x16\x03\x01\x00\xa5\x01\x00',
          `GET /${'a'.repeat(20000)} HTTP/1.1\r\n\r\n`,
          'GET /%2e%2e/web.config HTTP/1.1\r\nHost: x\r\n\r\n',
          'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n',
        ];
        let sent = 0;
        const until = performance.now() + 15_000;
        const attacker = async () => {
          while (performance.now() < until) {
            await new Promise<void>((resolve) => {
              const socket = net.connect(host.port, '127.0.0.1', () => socket.write(bad[sent++ % bad.length]!));
              socket.on('data', () => socket.destroy());
              socket.on('error', () => resolve());
              socket.on('close', () => resolve());
              socket.setTimeout(5000, () => socket.destroy());
            });
          }
        };
        const load = new Load();
        await Promise.all([load.run(host, '/pool/app.js', 16, 15), ...Array.from({ length: 8 }, attacker)]);
        return {
          scenario: 'bad input mix',
          requests: load.requests,
          failures: load.failures,
          maxLatencyMs: load.maxLatencyMs,
          note: `${sent} bad requests beside them`,
        };
      }),
  ],
];

const rows: Row[] = [];
for (const [name, run] of scenarios) {
  process.stderr.write(`soak: ${name}\n`);
  rows.push(await run());
}
const header = ['scenario', 'requests', 'failures', 'max latency', 'host RSS peak', 'note'];
const cells = rows.map((r) => [r.scenario, String(r.requests), String(r.failures), `${r.maxLatencyMs.toFixed(0)} ms`, `${r.rssPeakMb} MB`, r.note]);
const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
const line = (c: string[]) => `| ${c.map((v, i) => v.padEnd(widths[i]!)).join(' | ')} |`;
process.stdout.write([line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...cells.map(line)].join('\n') + '\n');
// Killed workers may fail the requests they held; every other scenario must have none.
process.exitCode = rows.some((r) => r.failures > 0 && r.scenario !== 'kill -9 under load') ? 1 : 0;
