/**
 * HostLog writes nodehost's own events (worker started, exited, config error, ...) as JSON
 * lines on stderr. It never receives worker output. `debug` lines are written only when
 * NODEHOST_DEBUG is set, and their fields are not even built otherwise (callers check `isDebug`).
 */
export type LogFields = Record<string, unknown>;

export class HostLog {
  readonly isDebug: boolean;
  readonly #out: NodeJS.WritableStream;

  constructor(out: NodeJS.WritableStream = process.stderr, isDebug = Boolean(process.env.NODEHOST_DEBUG)) {
    this.#out = out;
    this.isDebug = isDebug;
  }

  debug(msg: string, fields?: LogFields): void {
    if (this.isDebug) this.#write('debug', msg, fields);
  }
  info(msg: string, fields?: LogFields): void {
    this.#write('info', msg, fields);
  }
  warn(msg: string, fields?: LogFields): void {
    this.#write('warn', msg, fields);
  }
  error(msg: string, fields?: LogFields): void {
    this.#write('error', msg, fields);
  }

  #write(level: string, msg: string, fields: LogFields | undefined): void {
    const line = JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields }, errorReplacer);
    this.#out.write(line + '\n');
  }
}

function errorReplacer(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message, code: (value as { code?: unknown }).code };
  return value;
}
