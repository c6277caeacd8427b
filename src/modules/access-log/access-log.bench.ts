/**
 * access-log.bench.ts measures what the access log costs one request in CPU, in process (no
 * HTTP, so a busy machine disturbs it little): the 'log' phase step (format the line, queue it)
 * and the batched writes, for `--lines` requests (default 500,000) of a typical keep-alive GET.
 * Run: `node --import tsx src/modules/access-log/access-log.bench.ts [--lines N]`.
 * It prints CPU µs per line (user + system of this process, the writes' thread pool included).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { HostLog } from '../../host-log.js';
import type { RequestContext } from '../../http/request-context.js';
import { monotonicMs } from '../../http/monotonic-ms.js';
import { AccessLog, createAccessLogModule } from './access-log.js';

const { values } = parseArgs({ options: { lines: { type: 'string', default: '500000' } } });
const lines = Number(values.lines);
const dir = mkdtempSync(join(tmpdir(), 'nh-access-log-cost-'));
const accessLog = new AccessLog({ dir, log: new HostLog({ write: () => true } as unknown as NodeJS.WritableStream, false) });
const step = createAccessLogModule(accessLog);
const socket = { bytesWritten: 0 };
const req = {
  method: 'GET',
  url: '/hello.js?name=world',
  headers: { host: '127.0.0.1:8080', 'user-agent': 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36', referer: 'http://127.0.0.1:8080/' },
  socket,
};
const res = { headersSent: true, statusCode: 200 };

function context(): RequestContext {
  socket.bytesWritten += 151;
  return {
    req,
    res,
    rawUrl: req.url,
    status: 200,
    substatus: 0,
    startTime: monotonicMs(),
    localAddress: '127.0.0.1',
    localPort: 8080,
    remoteAddress: '127.0.0.1',
    authUser: '',
  } as unknown as RequestContext;
}

async function measure(isLogging: boolean): Promise<number> {
  const started = process.cpuUsage();
  for (let i = 0; i < lines; i++) {
    const ctx = context();
    if (isLogging) void step.handle(ctx);
    // Let the timer-driven flushes run as they would between requests.
    if ((i & 1023) === 0) await new Promise((resolve) => setImmediate(resolve));
  }
  await accessLog.flush();
  const used = process.cpuUsage(started);
  return (used.user + used.system) / lines;
}

await measure(true); // warm-up (JIT, the file opened)
const off = await measure(false);
const on = await measure(true);
await accessLog.close();
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`access log: ${(on - off).toFixed(3)} µs of CPU per request (${lines} lines; loop alone ${off.toFixed(3)} µs)\n`);
