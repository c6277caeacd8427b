/**
 * The "send body" half of serving a static file: opening it and streaming a byte range to the
 * client with backpressure. A later in-memory cache sends small hot files from a Buffer
 * instead, next to this.
 */
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ErrorCode } from '../../errors.js';
import type { RequestContext } from '../../pipeline/context.js';
import { fileSystemErrorCode } from './file-system-error.js';

/**
 * openFileBody opens `path` for reading, before any header is written, so that a file deleted
 * or made unreadable since its stat still gets a clean 404 or 403 instead of a cut response.
 * It returns the handle, or the error the request must get.
 */
export async function openFileBody(path: string): Promise<FileHandle | ErrorCode> {
  try {
    return await open(path, 'r');
  } catch (err) {
    return fileSystemErrorCode(err);
  }
}

/**
 * sendFileBody streams bytes `start`..`end` (inclusive, end >= start) of the open `handle` as
 * the response body. It owns the handle and always closes it. It resolves once every byte has
 * been handed to the response and the response ended, or once the transfer ended early with
 * the file closed. The response head must be set up already. If the client goes away, the
 * read stops and the file is closed; if reading fails after the head went out, the response
 * is destroyed, so the client sees a cut response rather than a wrong body; the same happens
 * when the file turns out shorter than `end`.
 */
export async function sendFileBody(ctx: RequestContext, handle: FileHandle, start: number, end: number): Promise<void> {
  let body;
  try {
    // autoClose (the default) closes the handle when the stream ends or is destroyed.
    body = createReadStream('', { fd: handle, start, end });
  } catch {
    // Arguments out of range: a bug upstream, but the handle must not leak.
    await handle.close();
    ctx.res.destroy();
    return;
  }
  try {
    // end: false, so that a short file can still be answered by destroying the response.
    await pipeline(body, ctx.res, { end: false });
  } catch {
    // A client abort (ERR_STREAM_PREMATURE_CLOSE) is routine and not worth a log line; a read
    // error leaves nothing valid to send. pipeline has destroyed the file stream, but with
    // end: false it leaves the response alone, so cut it here (a no-op after an abort). Then
    // wait for the file to be closed, so that a settled sendFileBody leaves no descriptor open.
    ctx.res.destroy();
    if (!body.closed) await closeOf(body);
    return;
  }
  // A file truncated since its stat ends early: the head promised more bytes than exist, and a
  // client would wait for them until a timeout, so cut the connection instead.
  if (body.bytesRead !== end - start + 1) ctx.res.destroy();
  else ctx.res.end();
}

/**
 * closeOf resolves when `stream` emits 'close'. Unlike events.once it does not reject on the
 * 'error' that a destroyed stream emits first. Only the failure path pays for its closure.
 */
function closeOf(stream: Readable): Promise<void> {
  return new Promise((resolve) => stream.once('close', resolve));
}
