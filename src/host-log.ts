/**
 * HostLog writes nodehost's own events (host started, worker spawned and exited, recycles and
 * why, config reloads and errors, ...) through pino, as JSON lines on stderr:
 * `{"level":"info","time":"<ISO 8601>","msg":"worker exited","pid":123,"code":1,...}`. It never
 * receives worker output. Lines below the level (default `info`; `debug` when NODEHOST_DEBUG
 * is set) are not written, and their fields are not built: pino tests the level first, and
 * callers of `debug` check `isDebug` before building costly fields.
 *
 * When the output is a terminal the lines are rendered for people instead
 * (`23:59:01.123 INFO  worker exited pid=123 code=1`) by a small formatter here: no pino
 * transport, no worker thread. Writes are synchronous so the last lines before an exit are kept.
 */
import { destination as pinoDestination, pino, stdTimeFunctions, type Logger } from 'pino';

export type LogFields = Record<string, unknown>;

/** LogLevel is a HostLog threshold: lines of this level and above are written. */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

/** LOG_LEVELS lists the levels, lowest first (the values `--log-level` accepts). */
export const LOG_LEVELS: readonly LogLevel[] = Object.freeze(['debug', 'info', 'warn', 'error']);

/** HostLogOptions: `level` wins over `isDebug`; `isPretty` defaults to whether `out` is a terminal. */
export interface HostLogOptions {
  readonly level?: LogLevel;
  readonly isPretty?: boolean;
}

export class HostLog {
  /** isDebug tells whether debug lines are written (check it before building debug fields). */
  readonly isDebug: boolean;
  /** level is the threshold in force. */
  readonly level: LogLevel;
  readonly #logger: Logger;

  /**
   * The second argument is either the old boolean (true: debug, false: info) or options.
   * `out` is any object with `write(line)`; the default is fd 2, written synchronously.
   */
  constructor(out?: NodeJS.WritableStream, isDebugOrOptions: boolean | HostLogOptions = Boolean(process.env.NODEHOST_DEBUG)) {
    const options: HostLogOptions = typeof isDebugOrOptions === 'boolean' ? { level: isDebugOrOptions ? 'debug' : 'info' } : isDebugOrOptions;
    this.level = options.level ?? (process.env.NODEHOST_DEBUG ? 'debug' : 'info');
    this.isDebug = this.level === 'debug';
    const isPretty = options.isPretty ?? (out === undefined ? process.stderr.isTTY === true : (out as { isTTY?: boolean }).isTTY === true);
    const raw: { write(line: string): unknown } = out ?? pinoDestination({ dest: 2, sync: true });
    const stream = isPretty ? new PrettyStream(raw) : raw;
    this.#logger = pino(
      {
        level: this.level,
        base: undefined,
        timestamp: stdTimeFunctions.isoTime,
        formatters: { level: (label) => ({ level: label }) },
        // Errors are already plain objects (lineObject); pino's `err` serialiser would re-shape them.
        serializers: { err: (value: unknown) => value },
      },
      stream,
    );
  }

  debug(msg: string, fields?: LogFields): void {
    if (this.isDebug) this.#logger.debug(lineObject(msg, fields));
  }
  info(msg: string, fields?: LogFields): void {
    if (this.#logger.isLevelEnabled('info')) this.#logger.info(lineObject(msg, fields));
  }
  warn(msg: string, fields?: LogFields): void {
    if (this.#logger.isLevelEnabled('warn')) this.#logger.warn(lineObject(msg, fields));
  }
  error(msg: string, fields?: LogFields): void {
    this.#logger.error(lineObject(msg, fields));
  }
}

/** parseLogLevel returns the level named by `value` (case-insensitive), or undefined. */
export function parseLogLevel(value: string): LogLevel | undefined {
  const lower = value.toLowerCase();
  return (LOG_LEVELS as readonly string[]).includes(lower) ? (lower as LogLevel) : undefined;
}

/**
 * lineObject puts `msg` first among the fields (so a line reads `"msg":"...","pid":...`, which
 * log readers and tests rely on) and turns Error values into `{name, message, code}`: pino's
 * own error serialiser only looks at the `err` key, and JSON.stringify renders an Error as `{}`.
 */
function lineObject(msg: string, fields: LogFields | undefined): LogFields {
  const line: LogFields = { msg };
  if (fields === undefined) return line;
  for (const key in fields) {
    const value = fields[key];
    line[key] = value instanceof Error ? { name: value.name, message: value.message, code: (value as { code?: unknown }).code } : value;
  }
  return line;
}

/** PrettyStream renders pino's JSON lines for a terminal: time, level, message, then key=value. */
class PrettyStream {
  readonly #out: { write(line: string): unknown };
  constructor(out: { write(line: string): unknown }) {
    this.#out = out;
  }
  write(line: string): void {
    this.#out.write(formatPretty(line));
  }
}

/** formatPretty turns one JSON log line into `HH:MM:SS.mmm LEVEL msg key=value ...` (a line it cannot parse passes as is). */
export function formatPretty(line: string): string {
  let record: LogFields;
  try {
    record = JSON.parse(line) as LogFields;
  } catch {
    return line;
  }
  const { time, level, msg, ...rest } = record;
  const clock = typeof time === 'string' ? time.slice(11, 23) : '';
  const parts = [
    clock,
    String(level ?? '')
      .toUpperCase()
      .padEnd(5),
    String(msg ?? ''),
  ];
  for (const [key, value] of Object.entries(rest)) {
    const text = typeof value === 'string' ? (/[\s"=]/.test(value) || value === '' ? JSON.stringify(value) : value) : JSON.stringify(value);
    parts.push(`${key}=${text}`);
  }
  return `${parts.join(' ')}\n`;
}
