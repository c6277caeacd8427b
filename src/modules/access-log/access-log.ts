/**
 * The access log of a site (DESIGN §4): one line per request in the W3C extended format with
 * IIS's fields, written by the 'log' phase once the response has closed. On the request's path
 * a line costs one string built from values at hand (the date part is formatted once per
 * second, a client's User-Agent and Referer once per connection run) and one copy into a
 * shared buffer; the writer appends what is buffered every 200 ms, or at once when 64 KiB are
 * waiting, asynchronously, so the log never delays a response. If the disk cannot keep up and
 * 16 MiB are waiting, further lines are dropped and counted (a request is never made to wait
 * for the log). A write that fails (disk full, a folder that cannot be written) is reported
 * once; lines are dropped and counted while writing is retried every few seconds, and the
 * recovery is reported with the count. `close()` writes everything buffered before it closes
 * the file.
 *
 * ```
 *   record(line) ──▶ slab (256 KiB): [ handed to the writer | buffered ▸ | free ]
 *                       a new UTC day or a full slab seals the buffered part as one piece
 *   flush() ──▶ pieces, in order ──▶ the day's file (#Software ... #Fields first when opened)
 * ```
 *
 * Files: `<folder>/u_exYYMMDD.log` per UTC day (IIS's name for UTF-8 W3C logs), and
 * `u_exYYMMDD_1.log`, `_2`, ... when a file reaches its size limit (64 MiB by default). Each
 * time nodehost opens a file it writes the `#Software`, `#Version`, `#Date` and `#Fields`
 * directives, as IIS does after a restart.
 */
import fs from 'node:fs';
import type { Socket } from 'node:net';
import path from 'node:path';
import type { HostLog } from '../../host-log.js';
import type { RequestContext } from '../../http/request-context.js';
import { monotonicMs } from '../../http/monotonic-ms.js';
import type { PipelineModule } from '../../http/pipeline-module.js';

/** W3C_FIELDS is the `#Fields` directive: the IIS default fields, in IIS's order. */
export const W3C_FIELDS =
  'date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-bytes time-taken';

/** Default size at which a day's file is continued in the next one. */
export const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;
const FLUSH_MS = 200;
const FLUSH_BYTES = 64 * 1024;
const MAX_WAITING_BYTES = 16 * 1024 * 1024;
/** After a failed write, lines are dropped for this long before writing is tried again. */
const RETRY_MS = 2000;
/** Size of the buffers lines are copied into; a line longer than a quarter of it gets its own. */
const SLAB_BYTES = 256 * 1024;

/** AccessLogOptions configure one site's access log. */
export interface AccessLogOptions {
  /** Folder of the site's log files; made on the first write. */
  readonly dir: string;
  readonly log: HostLog;
  readonly maxFileBytes?: number;
  /** Software name and version for the `#Software` directive. */
  readonly software?: string;
}

/** Piece is a run of whole lines of one UTC day (`YYYY-MM-DD`), ready to be written. */
interface Piece {
  readonly day: string;
  readonly bytes: Buffer;
}

/**
 * AccessLog: `record(line)` buffers a formatted line; `flush()` writes what is buffered;
 * `close()` writes the rest and closes the file (idempotent). `dropped` counts lines lost
 * because the disk could not keep up or failed; `bytesWritten` the bytes that reached a file.
 */
export class AccessLog {
  readonly dir: string;
  dropped = 0;
  bytesWritten = 0;
  readonly #options: AccessLogOptions;
  readonly #maxFileBytes: number;
  /** The slab lines are copied into: bytes before `#start` belong to sealed pieces, `#start`..`#end` are buffered. */
  #slab = Buffer.allocUnsafe(SLAB_BYTES);
  #start = 0;
  #end = 0;
  /** The day of the buffered lines. */
  #day = '';
  #pieces: Piece[] = [];
  #waitingBytes = 0;
  #timer: NodeJS.Timeout | undefined = undefined;
  #writing: Promise<void> | undefined = undefined;
  #fd: number | undefined = undefined;
  #fileDay = '';
  #fileSize = 0;
  #fileIndex = 0;
  /** Date.now() of the last failed write while writing is failing; 0 when it works. */
  #failedAt = 0;
  /** `dropped` when writing began to fail, so the recovery reports the lines lost meanwhile. */
  #droppedBefore = 0;
  #isClosed = false;

  constructor(options: AccessLogOptions) {
    this.dir = options.dir;
    this.#options = options;
    this.#maxFileBytes = options.maxFileBytes ?? DEFAULT_MAX_FILE_BYTES;
  }

  /** record buffers one line (without its newline; it starts with its `YYYY-MM-DD` date); never blocks and never throws. */
  record(line: string): void {
    if (this.#isClosed) return;
    if (this.#waitingBytes > MAX_WAITING_BYTES) {
      this.dropped++;
      return;
    }
    // A UTF-8 character takes at most 3 bytes per UTF-16 unit; plus the newline.
    const room = line.length * 3 + 1;
    if (this.#end > this.#start && !line.startsWith(this.#day)) this.#seal();
    if (room > SLAB_BYTES / 4) {
      this.#seal();
      const bytes = Buffer.from(`${line}\n`);
      this.#pieces.push({ day: line.slice(0, 10), bytes });
      this.#waitingBytes += bytes.length;
    } else {
      if (this.#end + room > SLAB_BYTES) {
        this.#seal();
        this.#slab = Buffer.allocUnsafe(SLAB_BYTES);
        this.#start = 0;
        this.#end = 0;
      }
      if (this.#end === this.#start) this.#day = line.slice(0, 10);
      const written = this.#slab.write(line, this.#end) + 1;
      this.#slab[this.#end + written - 1] = 0x0a;
      this.#end += written;
      this.#waitingBytes += written;
    }
    if (this.#writing !== undefined) return;
    if (this.#waitingBytes >= FLUSH_BYTES) {
      void this.flush();
    } else if (this.#timer === undefined) {
      this.#timer = setTimeout(this.#onTimer, FLUSH_MS);
      this.#timer.unref();
    }
  }

  /** flush writes every buffered line; resolves when they are written (or dropped on error). */
  async flush(): Promise<void> {
    while (this.#writing !== undefined) await this.#writing;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#seal();
    if (this.#pieces.length === 0) return;
    const pieces = this.#pieces;
    this.#pieces = [];
    this.#waitingBytes = 0;
    this.#writing = this.#write(pieces).finally(() => {
      this.#writing = undefined;
      if (this.#waitingBytes > 0 && this.#timer === undefined) {
        this.#timer = setTimeout(this.#onTimer, this.#waitingBytes >= FLUSH_BYTES ? 0 : FLUSH_MS);
        this.#timer.unref();
      }
    });
    await this.#writing;
  }

  /** close writes what is buffered and closes the file. Idempotent. */
  async close(): Promise<void> {
    if (this.#isClosed) return;
    await this.flush();
    this.#isClosed = true;
    if (this.#fd !== undefined) fs.closeSync(this.#fd);
    this.#fd = undefined;
    if (this.dropped > 0) this.#options.log.warn('access log lines dropped', { code: 'NH_ERR_ACCESS_LOG_WRITE', dir: this.dir, dropped: this.dropped });
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    void this.flush();
  };

  /** seal hands the buffered lines to the writer as one piece (the slab's later bytes stay free for new lines). */
  #seal(): void {
    if (this.#end === this.#start) return;
    this.#pieces.push({ day: this.#day, bytes: this.#slab.subarray(this.#start, this.#end) });
    this.#start = this.#end;
  }

  async #write(pieces: Piece[]): Promise<void> {
    if (this.#failedAt > 0 && Date.now() - this.#failedAt < RETRY_MS) {
      this.dropped += countLines(pieces, 0);
      return;
    }
    for (let i = 0; i < pieces.length; i++) {
      try {
        await this.#writePiece(pieces[i]!);
      } catch (err) {
        if (this.#failedAt === 0) {
          this.#droppedBefore = this.dropped;
          this.#options.log.warn('cannot write the access log; its lines are dropped until it can', { code: 'NH_ERR_ACCESS_LOG_WRITE', dir: this.dir, err });
        }
        this.#failedAt = Date.now();
        this.dropped += countLines(pieces, i);
        // Reopened on the next try: the file may be gone or its folder replaced meanwhile.
        if (this.#fd !== undefined) fs.close(this.#fd, () => {});
        this.#fd = undefined;
        return;
      }
    }
    if (this.#failedAt > 0) {
      this.#failedAt = 0;
      this.#options.log.info('access log written again', { dir: this.dir, dropped: this.dropped - this.#droppedBefore });
    }
  }

  async #writePiece(piece: Piece): Promise<void> {
    if (this.#fd === undefined || piece.day !== this.#fileDay || this.#fileSize >= this.#maxFileBytes) {
      await this.#writeAll(Buffer.from(await this.#open(piece.day)));
    }
    await this.#writeAll(piece.bytes);
  }

  async #writeAll(bytes: Buffer): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) {
      const written = await new Promise<number>((resolve, reject) => {
        fs.write(this.#fd!, bytes, offset, bytes.length - offset, null, (err, n) => (err ? reject(err) : resolve(n)));
      });
      offset += written;
      this.bytesWritten += written;
    }
    this.#fileSize += bytes.length;
  }

  /** open switches to the file for `day` that still has room; returns the directives to write first. */
  async #open(day: string): Promise<string> {
    if (this.#fd !== undefined) fs.closeSync(this.#fd);
    this.#fd = undefined;
    await fs.promises.mkdir(this.dir, { recursive: true });
    if (day !== this.#fileDay) {
      this.#fileDay = day;
      this.#fileIndex = await this.#lastIndex(day);
    }
    for (;;) {
      const file = path.join(this.dir, fileName(day, this.#fileIndex));
      const size = await fileSize(file);
      if (size < this.#maxFileBytes) {
        this.#fd = fs.openSync(file, 'a', 0o644);
        this.#fileSize = size;
        break;
      }
      this.#fileIndex++;
    }
    const now = new Date().toISOString();
    return `#Software: ${this.#options.software ?? 'nodehost'}\n#Version: 1.0\n#Date: ${now.slice(0, 10)} ${now.slice(11, 19)}\n#Fields: ${W3C_FIELDS}\n`;
  }

  /** lastIndex finds the highest `_N` of the day's existing files (0 when none), so a restart appends to it. */
  async #lastIndex(day: string): Promise<number> {
    const base = fileName(day, 0).slice(0, -4);
    let names: string[] = [];
    try {
      names = await fs.promises.readdir(this.dir);
    } catch {
      return 0;
    }
    let last = 0;
    for (const name of names) {
      if (!name.startsWith(base) || !name.endsWith('.log')) continue;
      const match = /^_(\d+)$/.exec(name.slice(base.length, -4));
      if (match !== null) last = Math.max(last, Number(match[1]));
    }
    return last;
  }
}

/** countLines counts the lines of the pieces from index `from` on (for the dropped count). */
function countLines(pieces: readonly Piece[], from: number): number {
  let lines = 0;
  for (let i = from; i < pieces.length; i++) {
    const bytes = pieces[i]!.bytes;
    for (let at = bytes.indexOf(0x0a); at !== -1; at = bytes.indexOf(0x0a, at + 1)) lines++;
  }
  return lines;
}

/** fileName gives the file of a day (`YYYY-MM-DD`) and index: `u_exYYMMDD.log`, `u_exYYMMDD_1.log`, ... */
export function fileName(day: string, index: number): string {
  const stem = `u_ex${day.slice(2, 4)}${day.slice(5, 7)}${day.slice(8, 10)}`;
  return index === 0 ? `${stem}.log` : `${stem}_${index}.log`;
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await fs.promises.stat(file)).size;
  } catch {
    return 0;
  }
}

/** Bytes each connection had written when its previous request was logged (sc-bytes is the difference). */
const loggedBytes = new WeakMap<Socket, number>();

/**
 * formatAccessLine builds the W3C line of a request whose response has closed: UTC date and
 * time, the server address and port, method, URL stem and query as the client sent them,
 * user, client address, User-Agent and Referer, status and substatus as sent, bytes sent
 * (head and body, counted on the connection) and the time taken in milliseconds. Empty
 * fields are `-`; spaces become `+` and other control characters `%XX`, so a line is
 * always one line of space-separated fields.
 */
export function formatAccessLine(ctx: RequestContext, now?: Date): string {
  const req = ctx.req;
  const res = ctx.res;
  const socket = req.socket;
  const written = socket.bytesWritten ?? 0;
  const bytes = written - (loggedBytes.get(socket) ?? 0);
  loggedBytes.set(socket, written);
  const raw = ctx.rawUrl;
  const q = raw.indexOf('?');
  const status = res.headersSent ? res.statusCode : ctx.status || res.statusCode;
  const substatus = ctx.status === status ? ctx.substatus : 0;
  const ms = Math.floor(monotonicMs() - ctx.startTime);
  return (
    dateTime(now === undefined ? Date.now() : now.getTime()) +
    ' ' +
    field(ctx.localAddress) +
    ' ' +
    field(req.method ?? '') +
    ' ' +
    field(q === -1 ? raw : raw.slice(0, q)) +
    ' ' +
    field(q === -1 ? '' : raw.slice(q + 1)) +
    ' ' +
    ctx.localPort +
    ' ' +
    field(ctx.authUser) +
    ' ' +
    field(ctx.remoteAddress) +
    ' ' +
    USER_AGENT.field(header(req.headers['user-agent'])) +
    ' ' +
    REFERER.field(header(req.headers.referer)) +
    ' ' +
    status +
    ' ' +
    substatus +
    ' ' +
    Math.max(0, bytes) +
    ' ' +
    ms
  );
}

/** The `date time` fields of the last second formatted: lines within one second share them. */
let stampSecond = -1;
let stamp = '';

/** dateTime gives the W3C `date time` fields (UTC, `YYYY-MM-DD HH:MM:SS`) of an epoch time in ms. */
function dateTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== stampSecond) {
    const iso = new Date(second * 1000).toISOString();
    stamp = iso.slice(0, 10) + ' ' + iso.slice(11, 19);
    stampSecond = second;
  }
  return stamp;
}

function header(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(',') : (value ?? '');
}

const NEEDS_ENCODING = /[\x00-\x20\x7f]/;
const CONTROL = /[\x00-\x1f\x7f]/;

/** field encodes one value: '-' when empty, spaces as '+', control characters as %XX. */
function field(value: string): string {
  if (value === '') return '-';
  if (!NEEDS_ENCODING.test(value)) return value;
  // Browsers' User-Agent headers have spaces and nothing else to encode.
  if (!CONTROL.test(value)) return value.replaceAll(' ', '+');
  return value.replace(/[\x00-\x20\x7f]/g, (c) => (c === ' ' ? '+' : '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')));
}

/**
 * FieldMemo remembers the last value of one header and its encoded field: a client sends the
 * same User-Agent and Referer on request after request, so most lines reuse the encoding.
 */
class FieldMemo {
  #value = '';
  #field = '-';

  field(value: string): string {
    if (value !== this.#value) {
      this.#value = value;
      this.#field = field(value);
    }
    return this.#field;
  }
}

const USER_AGENT = new FieldMemo();
const REFERER = new FieldMemo();

/**
 * createAccessLogModule is the 'log' phase module of a site: the engine runs it once the
 * response has closed (finished, or cut off by the client).
 */
export function createAccessLogModule(accessLog: AccessLog): PipelineModule {
  return {
    id: 'access-log',
    phase: 'log',
    // s-ip, written after the response has closed.
    readsLocalAddress: true,
    handle: (ctx) => {
      accessLog.record(formatAccessLine(ctx));
      return 'continue';
    },
  };
}
