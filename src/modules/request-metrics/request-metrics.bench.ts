/**
 * request-metrics.bench.ts measures what counting a response for /metrics costs in CPU, in
 * process (no HTTP, so a busy machine disturbs it little): the 'log' phase step for
 * `--responses` responses (default 1,000,000) of a static file and of an application, on a real
 * loopback connection (its byte counters are read as in the server).
 * Run: `node --import tsx src/modules/request-metrics/request-metrics.bench.ts [--responses N]`.
 * It prints CPU µs per response (user + system of this process) beyond the loop alone.
 */
import { once } from 'node:events';
import { createServer, connect, type Socket } from 'node:net';
import { parseArgs } from 'node:util';
import type { RequestContext } from '../../http/request-context.js';
import { monotonicMs } from '../../http/monotonic-ms.js';
import { createRequestMetricsModule, RequestMetrics } from './request-metrics.js';

const { values } = parseArgs({ options: { responses: { type: 'string', default: '1000000' } } });
const responses = Number(values.responses);

const server = createServer().listen(0, '127.0.0.1');
await once(server, 'listening');
const accepted = once(server, 'connection');
const client = connect((server.address() as { port: number }).port, '127.0.0.1');
await once(client, 'connect');
const [socket] = (await accepted) as [Socket];
client.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
await once(socket, 'data');

const step = createRequestMetricsModule(new RequestMetrics('bench'));
const req = { socket, httpVersionMajor: 1 };
const res = { headersSent: true, statusCode: 200 };

function context(handler: string): RequestContext {
  return {
    req,
    res,
    handler,
    scriptPath: '/srv/site/hello.js',
    status: 200,
    substatus: 0,
    cacheResult: '',
    startTime: monotonicMs(),
  } as unknown as RequestContext;
}

function measure(handler: string, isCounting: boolean): number {
  const started = process.cpuUsage();
  for (let i = 0; i < responses; i++) {
    const ctx = context(handler);
    if (isCounting) void step.handle(ctx);
  }
  const used = process.cpuUsage(started);
  return (used.user + used.system) / responses;
}

for (const [name, handler] of [
  ['static file', 'static'],
  ['application', 'iisnode'],
] as const) {
  measure(handler, true); // warm-up (JIT)
  const off = measure(handler, false);
  const on = measure(handler, true);
  process.stdout.write(`request metrics, ${name}: ${(on - off).toFixed(3)} µs of CPU per response (${responses} responses; loop alone ${off.toFixed(3)} µs)\n`);
}
client.destroy();
socket.destroy();
server.close();
