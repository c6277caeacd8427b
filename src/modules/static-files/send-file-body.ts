/**
 * The "send body" half of serving a static file: opening it and streaming a byte range to the
 * client with backpressure. A later in-memory cache sends small hot files from a Buffer
 * instead, next to this.
 */
import { createReadStream } from 'node:fs';
import { open, type FileHandle } from 'node:fs/promises';
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
 * the response body, and resolves once the body is sent or the transfer ended early. It owns
 * the handle and always closes it. The response head must be set up already. If the client
 * goes away, the read stops and the file is closed; if reading fails after the head went out,
 * the response is destroyed, so the client sees a cut response rather than a wrong body.
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
    await pipeline(body, ctx.res);
  } catch {
    // pipeline has already destroyed both streams; nothing is left to answer. A client abort
    // (ERR_STREAM_PREMATURE_CLOSE) is routine and is not worth a log line.
  }
}
