/**
 * The live tail of one log file: `GET <log folder>/tail?file=<name>` answers a text/plain
 * stream that carries every complete line appended to the file after the request (with
 * `from=start`, the whole file first). It follows the file through inotify events, with a
 * slow re-check as a safety net, reads at most 64 KiB at a time and waits for the client to
 * drain, so a slow client never makes nodehost buffer the file. The stream ends when the file
 * is deleted (a quota purge), the client leaves, or the host stops (`tails`: a client gone
 * with only a FIN is noticed at the next write, which a quiet file never makes).
 */
import fs from 'node:fs';
import path from 'node:path';
import type { RequestContext } from '../../http/request-context.js';
import { parseLogFileName } from '../../log-files/log-names.js';
import { fail } from '../../http/error-outcome.js';

const READ_BYTES = 64 * 1024;
const RECHECK_MS = 1000;
const NEWLINE = 0x0a;

/**
 * serveTail answers a tail request for a file of the log folder `dir`; resolves when the stream
 * ends. While it runs, `tails` holds the function that ends it.
 */
export async function serveTail(ctx: RequestContext, dir: string, tails: Set<() => void>): Promise<void> {
  const params = new URLSearchParams(ctx.query);
  const name = params.get('file') ?? '';
  if (parseLogFileName(name) === undefined || name.includes('/')) {
    ctx.sendError(fail('NH_ERR_LOGS_TAIL_NO_FILE', { publicMessage: 'Name a log file of this folder: tail?file=<name>.txt' }));
    return;
  }
  const file = path.join(dir, name);
  let handle: fs.promises.FileHandle;
  try {
    handle = await fs.promises.open(file, 'r');
  } catch {
    ctx.sendError(fail('NH_ERR_LOGS_TAIL_MISSING', { publicMessage: 'The log file does not exist (it may have been deleted by the quota).' }));
    return;
  }
  const res = ctx.res;
  let position = params.get('from') === 'start' ? 0 : (await handle.stat()).size;
  res.writeHead(200, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-cache',
    'X-Content-Type-Options': 'nosniff',
    'X-Accel-Buffering': 'no',
  });
  res.flushHeaders();
  ctx.status = 200;
  if (ctx.req.method === 'HEAD') {
    await handle.close();
    res.end();
    return;
  }
  let partial: Buffer = Buffer.alloc(0);
  let isReading = false;
  let isAgain = false;
  let isDone = false;
  const buffer = Buffer.allocUnsafe(READ_BYTES);
  const finish = () => {
    if (isDone) return;
    isDone = true;
    tails.delete(finish);
    watcher?.close();
    clearInterval(recheck);
    void handle.close().catch(() => undefined);
    if (!res.writableEnded) res.end();
  };
  const read = async (): Promise<void> => {
    if (isReading) {
      isAgain = true;
      return;
    }
    isReading = true;
    try {
      do {
        isAgain = false;
        const size = (await handle.stat()).size;
        if (size < position) position = 0; // truncated: start over
        while (!isDone && position < size) {
          const { bytesRead } = await handle.read(buffer, 0, Math.min(READ_BYTES, size - position), position);
          if (bytesRead === 0) break;
          position += bytesRead;
          const data = partial.length > 0 ? Buffer.concat([partial, buffer.subarray(0, bytesRead)]) : buffer.subarray(0, bytesRead);
          const last = data.lastIndexOf(NEWLINE);
          partial = Buffer.from(data.subarray(last + 1));
          if (last >= 0 && !res.write(Buffer.from(data.subarray(0, last + 1)))) {
            await new Promise<void>((resolve) => {
              res.once('drain', resolve);
              res.once('close', resolve);
            });
          }
        }
      } while (isAgain && !isDone);
      if (!isDone && !fs.existsSync(file)) finish();
    } catch {
      finish();
    } finally {
      isReading = false;
    }
  };
  let watcher: fs.FSWatcher | undefined;
  try {
    watcher = fs.watch(file, { persistent: false }, () => void read());
    watcher.on('error', () => undefined);
  } catch {
    watcher = undefined;
  }
  const recheck = setInterval(() => void read(), RECHECK_MS);
  recheck.unref();
  tails.add(finish);
  await new Promise<void>((resolve) => {
    res.once('close', () => {
      finish();
      resolve();
    });
    void read();
  });
}
