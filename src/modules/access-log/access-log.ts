/**
 * The access log of a site (DESIGN §4): one line per request in the W3C extended format with
 * IIS's fields, written by the 'log' phase once the response has closed. On the request's path
 * a line costs one string of a dozen pieces built from values at hand (the date part and the
 * server address are formatted once per second, the fields that repeat from request to request,
 * port, user, client, User-Agent and Referer, status and substatus, once per run of equal
 * values), appended to the lines not yet copied; every 64 lines they are copied into a shared
 * buffer by one native write. The writer appends what is buffered at most a second later
 * (FLUSH_MS), or at once when 64 KiB are waiting, asynchronously, so the log never delays a
 * response. If the disk cannot keep up and
 * 16 MiB are waiting, further lines are dropped and counted (a request is never made to wait
 * for the log). A write that fails (disk full, a folder that cannot be written) is reported
 * once; lines are dropped and counted while writing is retried every few seconds, and the
 * recovery is reported with the count. `close()` writes everything buffered before it closes
 * the file.
 *
 * ```
 *   record(line) ──▶ pending (one string, at most 64 lines of one day)
 *                       ──▶ slab (256 KiB): [ handed to the writer | buffered ▸ | free ]
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
import { http2ConnectionOf } from '../../http/http2-connection-of.js';
import { monotonicMs } from '../../http/monotonic-ms.js';
import type { PipelineModule } from '../../http/pipeline-module.js';

/** W3C_FIELDS is the `#Fields` directive: the IIS default fields, in IIS's order. */
export const W3C_FIELDS =
  'date time s-ip cs-method cs-uri-stem cs-uri-query s-port cs-username c-ip cs(User-Agent) cs(Referer) sc-status sc-substatus sc-bytes time-taken';

/** Default size at which a day's file is continued in the next one. */
export const DEFAULT_MAX_FILE_BYTES = 64 * 1024 * 1024;
/** How long a line may wait for its write (the bound on how late it reaches its file; close() writes at once). */
const FLUSH_MS = 1000;
/** Lines appended to `pending` before they are copied into the slab (one native write for them all). */
const PENDING_LINES = 64;
const FLUSH_BYTES = 64 * 1024;
const MAX_WAITING_BYTES = 16 * 1024 * 1024;
/** After a failed write, lines are dropped for this long before writing is tried again. */
const RETRY_MS = 2000;
/** Size of the buffers lines are copied into; a line longer than a quarter of it gets its own. */
const SLAB_BYTES = 256 * 1024;
/** UTF-16 units of pending lines that are copied at once whatever their count (a long line). */
const MAX_PENDING_UNITS = 8 * 1024;

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
  /**
   * The lines (each with its newline) not yet copied into the slab, of day `#pendingDay`:
   * appending a line to a string costs one rope node, copying it costs a native call, so
   * lines are copied PENDING_LINES at a time. `#isPendingAscii` picks the cheaper copy.
   */
  #pending = '';
  #pendingLines = 0;
  #pendingDay = '';
  #isPendingAscii = true;
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
    this.#append(`${line}\n`, line.slice(0, 10), false);
  }

  /**
   * recordRequest buffers the line of a request whose response has closed (formatAccessLine's,
   * built by the same code). `now` (epoch ms) and `end` (monotonicMs) are the clock readings,
   * for tests. Never blocks and never throws.
   */
  recordRequest(ctx: RequestContext, now: number = Date.now(), end: number = monotonicMs()): void {
    if (this.#isClosed) return;
    const text = accessLine(ctx, now, end);
    this.#append(text, stampDay, isLineAscii);
  }

  /** append adds a line of `day` (with its newline) to the pending lines; ASCII when `isAscii`. */
  #append(text: string, day: string, isAscii: boolean): void {
    if (this.#waitingBytes > MAX_WAITING_BYTES) {
      this.dropped++;
      return;
    }
    if (this.#pendingLines > 0 && day !== this.#pendingDay) this.#copyPending();
    if (this.#pendingLines === 0) {
      this.#pending = text;
      this.#pendingDay = day;
      this.#isPendingAscii = isAscii;
    } else {
      this.#pending += text;
      if (!isAscii) this.#isPendingAscii = false;
    }
    if (++this.#pendingLines >= PENDING_LINES || this.#pending.length > MAX_PENDING_UNITS) this.#copyPending();
    if (this.#writing === undefined && (this.#timer === undefined || this.#waitingBytes >= FLUSH_BYTES)) this.#schedule();
  }

  /** copyPending copies the pending lines into the slab (a new day seals the lines before; a run too long for a slab gets its own piece). */
  #copyPending(): void {
    if (this.#pendingLines === 0) return;
    const text = this.#pending;
    const day = this.#pendingDay;
    this.#pending = '';
    this.#pendingLines = 0;
    // A UTF-8 character takes at most 3 bytes per UTF-16 unit.
    const room = this.#isPendingAscii ? text.length : text.length * 3;
    if (this.#end > this.#start && day !== this.#day) this.#seal();
    if (room > SLAB_BYTES / 4) {
      this.#seal();
      const bytes = Buffer.from(text);
      this.#pieces.push({ day, bytes });
      this.#waitingBytes += bytes.length;
      return;
    }
    if (this.#end + room > SLAB_BYTES) {
      this.#seal();
      this.#slab = Buffer.allocUnsafe(SLAB_BYTES);
      this.#start = 0;
      this.#end = 0;
    }
    if (this.#end === this.#start) this.#day = day;
    // ASCII: latin1 gives the same bytes and writes the rope without flattening it first.
    const written = this.#slab.write(text, this.#end, this.#isPendingAscii ? 'latin1' : 'utf8');
    this.#end += written;
    this.#waitingBytes += written;
  }

  /**
   * schedule starts the write of what is buffered: at once when 64 KiB are waiting, else at
   * most FLUSH_MS later. While a write runs, its end schedules the next one.
   */
  #schedule(): void {
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
    this.#copyPending();
    this.#seal();
    if (this.#pieces.length === 0) return;
    const pieces = this.#pieces;
    this.#pieces = [];
    this.#waitingBytes = 0;
    this.#writing = this.#write(pieces).finally(() => {
      this.#writing = undefined;
      if ((this.#waitingBytes > 0 || this.#pendingLines > 0) && this.#timer === undefined) {
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

/** SentCount is what a connection had written when its previous request was logged (sc-bytes is the difference). */
interface SentCount {
  bytes: number;
}

const sentCounts = new WeakMap<Socket, SentCount>();

/**
 * formatAccessLine builds the W3C line of a request whose response has closed: UTC date and
 * time, the server address and port, method, URL stem and query as the client sent them,
 * user, client address, User-Agent and Referer, status and substatus as sent, bytes sent
 * (head and body, counted on the connection) and the time taken in milliseconds. Empty
 * fields are `-`; spaces become `+` and other control characters `%XX`, so a line is
 * always one line of space-separated fields. `now` and `end` (monotonicMs) are the clock
 * readings, for tests.
 */
export function formatAccessLine(ctx: RequestContext, now?: Date, end: number = monotonicMs()): string {
  const line = accessLine(ctx, now === undefined ? Date.now() : now.getTime(), end);
  return line.slice(0, -1);
}

/** True when the last line accessLine built is ASCII (then its latin1 bytes are its UTF-8 bytes). */
let isLineAscii = true;

/**
 * accessLine builds formatAccessLine's line with its newline, and sets isLineAscii. It is
 * written for the fewest string pieces: the parts that repeat from request to request are
 * kept already joined (LineMemo), the rest is one template of about a dozen pieces.
 */
function accessLine(ctx: RequestContext, now: number, end: number): string {
  const req = ctx.req;
  const res = ctx.res;
  // Over HTTP/2 the bytes are counted on the session's socket, which its streams share.
  const socket = http2ConnectionOf(req)?.socket ?? req.socket;
  const written = socket.bytesWritten ?? 0;
  const count = sentCounts.get(socket);
  let bytes = written;
  if (count === undefined) {
    sentCounts.set(socket, { bytes: written });
  } else {
    bytes = written - count.bytes;
    count.bytes = written;
  }
  const status = res.headersSent ? res.statusCode : ctx.status || res.statusCode;
  const substatus = ctx.status === status ? ctx.substatus : 0;
  const ms = Math.floor(end - ctx.startTime);
  const memo = LINE;
  if (Math.floor(now / 1000) !== stampSecond) dateTime(now);
  const localAddress = ctx.localAddress;
  if (memo.stamp !== stamp || memo.localAddress !== localAddress) memo.head(localAddress);
  const method = req.method ?? '';
  if (memo.method !== method) memo.methodOf(method);
  const headers = req.headers;
  const agent = headers['user-agent'];
  const referer = headers.referer;
  const port = ctx.localPort;
  const user = ctx.authUser;
  const remoteAddress = ctx.remoteAddress;
  if (memo.agent !== agent || memo.referer !== referer || memo.port !== port || memo.user !== user || memo.remoteAddress !== remoteAddress) {
    memo.middleOf(port, user, remoteAddress, agent, referer);
  }
  if (memo.status !== status || memo.substatus !== substatus) memo.statusOf(status, substatus);
  isLineAscii = memo.isAscii;
  const raw = ctx.rawUrl;
  let target: string;
  if (NEEDS_WORK.test(raw)) {
    const q = raw.indexOf('?');
    target = field(q === -1 ? raw : raw.slice(0, q)) + ' ' + field(q === -1 ? '' : raw.slice(q + 1));
    if (NON_ASCII.test(target)) isLineAscii = false;
  } else {
    // Nothing to encode: the stem and query are the target's two halves.
    const q = raw.indexOf('?');
    target =
      q === -1
        ? raw === ''
          ? '- -'
          : raw + ' -'
        : q === 0
          ? '- ' + (q + 1 === raw.length ? '-' : raw.slice(1))
          : q + 1 === raw.length
            ? raw.slice(0, q) + ' -'
            : raw.slice(0, q) + ' ' + raw.slice(q + 1);
  }
  return `${memo.headText}${memo.methodText}${target} ${memo.middleText}${memo.statusText}${Math.max(0, bytes)} ${ms}\n`;
}

/** The `date time` fields of the last second formatted: lines within one second share them. */
let stampSecond = -1;
let stamp = '';
/** The date of `stamp` (`YYYY-MM-DD`), the same string for every second of a day. */
let stampDay = '';

/** dateTime gives the W3C `date time` fields (UTC, `YYYY-MM-DD HH:MM:SS`) of an epoch time in ms, and sets stampDay to its date. */
function dateTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== stampSecond) {
    const iso = new Date(second * 1000).toISOString();
    const day = iso.slice(0, 10);
    if (day !== stampDay) stampDay = day;
    stamp = day + ' ' + iso.slice(11, 19);
    stampSecond = second;
  }
  return stamp;
}

function header(value: string | string[] | undefined): string {
  return Array.isArray(value) ? value.join(',') : (value ?? '');
}

const NEEDS_ENCODING = /[\x00-\x20\x7f]/;
const CONTROL = /[\x00-\x1f\x7f]/;
/** What a field cannot be copied as it is for: what field() encodes, and non-ASCII (for isLineAscii). */
const NEEDS_WORK = /[^\x21-\x7e]/;
const NON_ASCII = /[^\x00-\x7f]/;

/** field encodes one value: '-' when empty, spaces as '+', control characters as %XX. */
function field(value: string): string {
  if (value === '') return '-';
  if (!NEEDS_ENCODING.test(value)) return value;
  // Browsers' User-Agent headers have spaces and nothing else to encode.
  if (!CONTROL.test(value)) return value.replaceAll(' ', '+');
  return value.replace(/[\x00-\x20\x7f]/g, (c) => (c === ' ' ? '+' : '%' + c.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')));
}

/**
 * LineMemo keeps the parts of the last line that repeat from request to request, already
 * encoded and joined with their separators: `date time s-ip `, `cs-method `, `s-port
 * cs-username c-ip cs(User-Agent) cs(Referer) ` (a client sends the same headers on request
 * after request) and `sc-status sc-substatus `. A part is built again when one of its values
 * differs from the last line's (comparing costs less than encoding).
 */
class LineMemo {
  stamp = '';
  localAddress = '';
  headText = '';
  #isHeadAscii = true;
  method = '';
  methodText = '- ';
  #isMethodAscii = true;
  agent: string | string[] | undefined = undefined;
  referer: string | string[] | undefined = undefined;
  port = 0;
  user = '';
  remoteAddress = '';
  middleText = '0 - - - - ';
  #isMiddleAscii = true;
  status = 0;
  substatus = 0;
  statusText = '0 0 ';
  /** True when every kept part is ASCII. */
  isAscii = true;

  head(localAddress: string): void {
    this.stamp = stamp;
    this.localAddress = localAddress;
    this.headText = `${stamp} ${field(localAddress)} `;
    this.#isHeadAscii = !NON_ASCII.test(localAddress);
    this.#updateAscii();
  }

  methodOf(method: string): void {
    this.method = method;
    this.methodText = `${field(method)} `;
    this.#isMethodAscii = !NON_ASCII.test(method);
    this.#updateAscii();
  }

  middleOf(port: number, user: string, remoteAddress: string, agent: string | string[] | undefined, referer: string | string[] | undefined): void {
    this.port = port;
    this.user = user;
    this.remoteAddress = remoteAddress;
    this.agent = agent;
    this.referer = referer;
    const text = `${port} ${field(user)} ${field(remoteAddress)} ${field(header(agent))} ${field(header(referer))} `;
    this.middleText = text;
    this.#isMiddleAscii = !NON_ASCII.test(text);
    this.#updateAscii();
  }

  statusOf(status: number, substatus: number): void {
    this.status = status;
    this.substatus = substatus;
    this.statusText = `${status} ${substatus} `;
  }

  #updateAscii(): void {
    this.isAscii = this.#isHeadAscii && this.#isMethodAscii && this.#isMiddleAscii;
  }
}

const LINE = new LineMemo();

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
      accessLog.recordRequest(ctx);
      return 'continue';
    },
  };
}
