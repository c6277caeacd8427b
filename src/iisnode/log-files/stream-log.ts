/**
 * StreamLog writes one stream (stdout or stderr) of one worker into its log files.
 *
 * ```
 *  pipe chunk ─▶ write() ─▶ [held partial line] ─▶ place(): whole lines into files ─▶ queue ─▶ pump ─▶ writev(fd)
 *                               (≤ 64 KiB, ≤ 100 ms)     rollover only between lines          │
 *                                                                                      > 1 MiB queued: pause the pipe
 *                                                                                      ≤ 256 KiB: resume it
 * ```
 *
 * Guarantees: a file is created on the stream's first byte; a line is never split across two
 * files (the next line goes to a new file when it would take the current file past
 * maxLogFileSizeInKB; a single line longer than that fills a file of its own); no byte is
 * dropped: when the disk is slower than the worker, the worker's pipe is paused, so the
 * worker blocks in its own write. Only a file system error discards output: it is reported
 * once, output is then dropped (and counted) while writes are tried again at most once a
 * second, and a new file starts when one succeeds (disk full, log folder read-only or replaced).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LogFolder } from './log-folder.js';
import { formatLogFileName } from '../../log-files/log-names.js';

/** Bytes queued for the disk above which the worker's pipe is paused. */
export const PAUSE_BYTES = 1024 * 1024;
/** Bytes queued at or below which a paused pipe is resumed. */
export const RESUME_BYTES = 256 * 1024;
/** A partial line is held until its newline arrives, at most this many bytes... */
const MAX_HELD_BYTES = 64 * 1024;
/** ...or this long, so progress output without newlines still reaches the file. */
const HOLD_MS = 100;
/** Most bytes and buffers per write system call. */
const MAX_BATCH_BYTES = 1024 * 1024;
const MAX_BATCH_BUFFERS = 256;
const NEWLINE = 0x0a;
/** After a failed write, output is dropped for this long before writing is tried again. */
export const RETRY_MS = 1000;

/** PipeControl pauses and resumes the worker's pipe (back-pressure). */
export interface PipeControl {
  pause(): void;
  resume(): void;
}

/** StreamLogOptions configure one stream's log. */
export interface StreamLogOptions {
  readonly folder: LogFolder;
  readonly pid: number;
  readonly stream: 'stdout' | 'stderr';
  readonly pipe: PipeControl;
  /** Called when writing fails (once per outage); output is then dropped until a write succeeds again. */
  readonly onError: (err: unknown, file: string) => void;
  /** Called when a write succeeded after a failure, with the bytes dropped meanwhile. */
  readonly onResume?: (droppedBytes: number, file: string) => void;
  readonly hostname?: string;
  /** Ms output is dropped after a failed write before writing is tried again; RETRY_MS by default. */
  readonly retryMs?: number;
}

/** LogFile is one file of the stream; its name is chosen when it is created. */
class LogFile {
  name = '';
  /** Bytes assigned to the file (queued or written). */
  size = 0;
  /** Bytes known to be on disk. */
  written = 0;
}

/** Segment is a run of bytes for one file; fixed shape. */
class Segment {
  readonly file: LogFile;
  readonly bytes: Buffer;
  constructor(file: LogFile, bytes: Buffer) {
    this.file = file;
    this.bytes = bytes;
  }
}

/**
 * StreamLog: `write(chunk)` for every chunk the pipe delivers (the chunk is copied),
 * `end()` when the pipe ends; `closed` resolves once everything is on disk and the file is
 * closed. `tail(maxBytes)` returns the stream's last bytes, including those not yet written.
 */
export class StreamLog {
  readonly #options: StreamLogOptions;
  readonly #host: string;
  readonly #maxFileBytes: number;
  readonly #retryMs: number;
  #current: LogFile | undefined = undefined;
  /** Names of this stream's earlier files, oldest first (the last few, for tail()). */
  readonly #previous: string[] = [];
  #queue: Segment[] = [];
  #head = 0;
  #queuedBytes = 0;
  #held: Buffer[] = [];
  #heldBytes = 0;
  #holdTimer: NodeJS.Timeout | undefined = undefined;
  #isAtLineStart = true;
  #isPaused = false;
  #isPumping = false;
  #isEnded = false;
  /** Date.now() of the last failed write (0 while writing works). */
  #failedAt = 0;
  #droppedBytes = 0;
  #droppedBefore = 0;
  #fd: number | undefined = undefined;
  #openFile: LogFile | undefined = undefined;
  #lastCreated = 0;
  #resolveClosed!: () => void;
  /** closed resolves when the stream ended and all its bytes are written and the file closed. */
  readonly closed: Promise<void>;

  constructor(options: StreamLogOptions) {
    this.#options = options;
    this.#host = options.hostname ?? os.hostname();
    this.#maxFileBytes = Math.max(1, options.folder.quotas.maxFileBytes);
    this.#retryMs = options.retryMs ?? RETRY_MS;
    this.closed = new Promise((resolve) => {
      this.#resolveClosed = resolve;
    });
  }

  /** queuedBytes is the number of bytes received and not yet on disk. */
  get queuedBytes(): number {
    return this.#queuedBytes + this.#heldBytes;
  }

  /** droppedBytes is the number of bytes lost to write errors so far. */
  get droppedBytes(): number {
    return this.#droppedBytes;
  }

  /** write takes one chunk of the stream (copied: the caller may reuse it). */
  write(chunk: Buffer): void {
    if (this.#isEnded || chunk.length === 0) return;
    if (this.#failedAt > 0 && Date.now() - this.#failedAt < this.#retryMs) {
      this.#droppedBytes += chunk.length;
      return;
    }
    const copy = Buffer.allocUnsafe(chunk.length);
    chunk.copy(copy);
    const lastNewline = copy.lastIndexOf(NEWLINE);
    if (lastNewline === -1) {
      this.#hold(copy);
      return;
    }
    let lines = copy.subarray(0, lastNewline + 1);
    if (this.#heldBytes > 0) {
      this.#held.push(lines);
      lines = Buffer.concat(this.#held, this.#heldBytes + lines.length);
      this.#releaseHeld();
    }
    this.#place(lines);
    if (lastNewline + 1 < copy.length) this.#hold(copy.subarray(lastNewline + 1));
    this.#pump();
  }

  /** end says the pipe has ended: a held partial line is written, then the file is closed. */
  end(): void {
    if (this.#isEnded) return;
    this.#flushHeld();
    this.#isEnded = true;
    this.#pump();
  }

  /**
   * tail returns the last `maxBytes` of the stream as UTF-8 text (from a character boundary):
   * bytes still in memory, then the current file, then earlier files of this stream that still
   * exist. Synchronous: it is read when a failure page is rendered.
   */
  tail(maxBytes: number): string {
    const parts: Buffer[] = [];
    let need = maxBytes;
    for (let i = this.#held.length - 1; i >= 0 && need > 0; i--) need = takeEnd(this.#held[i]!, need, parts);
    for (let i = this.#queue.length - 1; i >= this.#head && need > 0; i--) need = takeEnd(this.#queue[i]!.bytes, need, parts);
    // Files: the open file's written bytes, then older files of this stream, newest first.
    const files: { name: string; size: number }[] = [];
    if (this.#openFile !== undefined) files.push({ name: this.#openFile.name, size: this.#openFile.written });
    for (let i = this.#previous.length - 1; i >= 0; i--) files.push({ name: this.#previous[i]!, size: -1 });
    for (const file of files) {
      if (need <= 0) break;
      need = readFileEnd(path.join(this.#options.folder.dir, file.name), file.size, need, parts);
    }
    const bytes = Buffer.concat(parts.reverse());
    let start = 0;
    while (start < 3 && start < bytes.length && bytes.length >= maxBytes && (bytes[start]! & 0xc0) === 0x80) start++;
    return bytes.toString('utf8', start);
  }

  #hold(bytes: Buffer): void {
    this.#held.push(bytes);
    this.#heldBytes += bytes.length;
    if (this.#heldBytes >= MAX_HELD_BYTES) {
      this.#flushHeld();
      this.#pump();
    } else if (this.#holdTimer === undefined) {
      this.#holdTimer = setTimeout(this.#onHoldTimeout, HOLD_MS);
      this.#holdTimer.unref();
    }
  }

  readonly #onHoldTimeout = (): void => {
    this.#holdTimer = undefined;
    this.#flushHeld();
    this.#pump();
  };

  /** flushHeld places a held partial line; its continuation then stays in the same file. */
  #flushHeld(): void {
    if (this.#heldBytes === 0) return;
    const bytes = this.#held.length === 1 ? this.#held[0]! : Buffer.concat(this.#held, this.#heldBytes);
    this.#releaseHeld();
    this.#place(bytes);
  }

  #releaseHeld(): void {
    this.#held = [];
    this.#heldBytes = 0;
    if (this.#holdTimer !== undefined) clearTimeout(this.#holdTimer);
    this.#holdTimer = undefined;
  }

  /** place assigns bytes to files: a new file starts only where a line starts. */
  #place(data: Buffer): void {
    const max = this.#maxFileBytes;
    let offset = 0;
    while (offset < data.length) {
      if (!this.#isAtLineStart) {
        // The rest of a line goes where its beginning went.
        offset = this.#enqueueLine(data, offset);
        continue;
      }
      const current = this.#current ?? this.#rollover();
      const room = max - current.size;
      if (data.length - offset <= room) {
        this.#enqueue(offset === 0 ? data : data.subarray(offset));
        this.#isAtLineStart = data[data.length - 1] === NEWLINE;
        return;
      }
      // The whole lines that still fit go into this file.
      const cut = room > 0 ? data.lastIndexOf(NEWLINE, offset + room - 1) : -1;
      if (cut >= offset) {
        this.#enqueue(data.subarray(offset, cut + 1));
        offset = cut + 1;
        this.#rollover();
      } else if (current.size > 0) {
        this.#rollover();
      } else {
        // One line longer than a whole file: it gets an empty file to itself.
        offset = this.#enqueueLine(data, offset);
      }
    }
  }

  /** enqueueLine queues data from `offset` to the end of its line (or of data) and returns where that ends. */
  #enqueueLine(data: Buffer, offset: number): number {
    const newline = data.indexOf(NEWLINE, offset);
    const end = newline === -1 ? data.length : newline + 1;
    this.#enqueue(data.subarray(offset, end));
    this.#isAtLineStart = newline !== -1;
    return end;
  }

  #rollover(): LogFile {
    const file = new LogFile();
    this.#current = file;
    return file;
  }

  #enqueue(bytes: Buffer): void {
    const file = this.#current!;
    file.size += bytes.length;
    this.#queue.push(new Segment(file, bytes));
    this.#queuedBytes += bytes.length;
    if (!this.#isPaused && this.#queuedBytes > PAUSE_BYTES) {
      this.#isPaused = true;
      this.#options.pipe.pause();
    }
  }

  #pump(): void {
    if (this.#isPumping) return;
    this.#isPumping = true;
    void this.#drain().finally(() => {
      this.#isPumping = false;
      if (this.#head < this.#queue.length) this.#pump();
      else if (this.#isEnded) void this.#close();
    });
  }

  async #drain(): Promise<void> {
    while (this.#head < this.#queue.length) {
      const file = this.#queue[this.#head]!.file;
      try {
        if (file !== this.#openFile) await this.#openNext(file);
        const batch: Buffer[] = [];
        let bytes = 0;
        let index = this.#head;
        while (index < this.#queue.length && batch.length < MAX_BATCH_BUFFERS && bytes < MAX_BATCH_BYTES) {
          const segment = this.#queue[index]!;
          if (segment.file !== file) break;
          batch.push(segment.bytes);
          bytes += segment.bytes.length;
          index++;
        }
        await writeAll(this.#fd!, batch, bytes);
        file.written += bytes;
        this.#advance(index, bytes);
        if (this.#failedAt > 0) this.#resume(file);
      } catch (err) {
        await this.#fail(err, file);
      }
    }
  }

  #advance(index: number, bytes: number): void {
    for (let i = this.#head; i < index; i++) this.#queue[i] = undefined as unknown as Segment;
    this.#head = index;
    this.#queuedBytes -= bytes;
    if (this.#head === this.#queue.length) {
      this.#queue = [];
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#queue.length) {
      this.#queue = this.#queue.slice(this.#head);
      this.#head = 0;
    }
    if (this.#isPaused && this.#queuedBytes <= RESUME_BYTES) {
      this.#isPaused = false;
      this.#options.pipe.resume();
    }
  }

  /** openNext closes the file being written and creates the next one (with its quota purge). */
  async #openNext(file: LogFile): Promise<void> {
    await this.#closeFd();
    const folder = this.#options.folder;
    const now = Date.now();
    // Names stay unique even when two files of one stream start within the same millisecond.
    const created = now > this.#lastCreated ? now : this.#lastCreated + 1;
    this.#lastCreated = created;
    file.name = formatLogFileName(this.#host, this.#options.pid, this.#options.stream, created);
    // A raw descriptor, not a FileHandle: a FileHandle closes itself when collected.
    this.#fd = await folder.createFile(file.name, () => openForAppend(path.join(folder.dir, file.name)));
    this.#openFile = file;
  }

  async #closeFd(): Promise<void> {
    const open = this.#openFile;
    const fd = this.#fd;
    this.#openFile = undefined;
    this.#fd = undefined;
    if (open === undefined) return;
    this.#options.folder.endFile(open.name);
    this.#previous.push(open.name);
    if (this.#previous.length > 4) this.#previous.shift();
    if (fd !== undefined) await new Promise<void>((resolve) => fs.close(fd, () => resolve()));
  }

  /** fail drops what is queued, reports the first failure of an outage, and forgets the file: the next try starts a new one. */
  async #fail(err: unknown, file: LogFile): Promise<void> {
    if (this.#failedAt === 0) {
      this.#droppedBefore = this.#droppedBytes;
      this.#options.onError(err, this.#pathOf(file));
    }
    this.#failedAt = Date.now();
    this.#droppedBytes += this.#queuedBytes + this.#heldBytes;
    this.#releaseHeld();
    this.#advance(this.#queue.length, this.#queuedBytes);
    this.#current = undefined;
    this.#isAtLineStart = true;
    await this.#closeFd();
  }

  #resume(file: LogFile): void {
    this.#failedAt = 0;
    this.#options.onResume?.(this.#droppedBytes - this.#droppedBefore, this.#pathOf(file));
  }

  #pathOf(file: LogFile): string {
    return file.name === '' ? this.#options.folder.dir : path.join(this.#options.folder.dir, file.name);
  }

  async #close(): Promise<void> {
    await this.#closeFd();
    this.#resolveClosed();
  }
}

function openForAppend(file: string): Promise<number> {
  return new Promise((resolve, reject) => fs.open(file, 'a', 0o644, (err, fd) => (err ? reject(err) : resolve(fd))));
}

/** writeAll writes the buffers at the file's end, repeating after short writes. */
async function writeAll(fd: number, buffers: Buffer[], total: number): Promise<void> {
  let done = 0;
  let list = buffers;
  while (done < total) {
    const written = await new Promise<number>((resolve, reject) => {
      fs.writev(fd, list, (err, n) => (err ? reject(err) : resolve(n)));
    });
    done += written;
    if (done < total) list = dropFront(list, written);
  }
}

function dropFront(buffers: Buffer[], count: number): Buffer[] {
  let skip = count;
  let i = 0;
  while (i < buffers.length && skip >= buffers[i]!.length) skip -= buffers[i++]!.length;
  const rest = buffers.slice(i);
  if (rest.length > 0 && skip > 0) rest[0] = rest[0]!.subarray(skip);
  return rest;
}

/** takeEnd prepends (in reverse order) up to `need` bytes from the end of `bytes`; returns what is still needed. */
function takeEnd(bytes: Buffer, need: number, parts: Buffer[]): number {
  const take = Math.min(need, bytes.length);
  parts.push(bytes.subarray(bytes.length - take));
  return need - take;
}

/** readFileEnd reads up to `need` bytes ending at `size` (-1: the file's size) of a file; a missing file gives nothing. */
function readFileEnd(file: string, size: number, need: number, parts: Buffer[]): number {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    return need;
  }
  try {
    const end = size >= 0 ? size : fs.fstatSync(fd).size;
    const take = Math.min(need, end);
    if (take <= 0) return need;
    const buffer = Buffer.allocUnsafe(take);
    const read = fs.readSync(fd, buffer, 0, take, end - take);
    parts.push(buffer.subarray(0, read));
    return need - read;
  } catch {
    return need;
  } finally {
    fs.closeSync(fd);
  }
}
