/**
 * closeWhenIdle closes an HTTP/2 session that has had no open stream for `timeoutMs` (nginx's
 * keepalive_timeout for HTTP/2; node's own session timeout is off): an idle browser connection
 * otherwise holds its socket, its TLS state and a connection slot for ever. The timer runs
 * only while no stream is open, so a long poll or a slow download is never cut; close() sends
 * GOAWAY. (Node's session.setTimeout is not used: it counts frames, not streams, and arming it
 * changes how node ends a session that broke the stream limit.)
 */
import type { Http2Session, ServerHttp2Stream } from 'node:http2';

/** IdleWatch is one session's open stream count and its idle timer. */
class IdleWatch {
  readonly session: Http2Session;
  readonly timeoutMs: number;
  open = 0;
  timer: NodeJS.Timeout | undefined;

  constructor(session: Http2Session, timeoutMs: number) {
    this.session = session;
    this.timeoutMs = timeoutMs;
  }

  arm(): void {
    this.timer = setTimeout(onIdle, this.timeoutMs, this);
    this.timer.unref();
  }
}

const kWatch = Symbol('nodehost.idleWatch');

type Watched<T> = T & { [kWatch]?: IdleWatch };

export function closeWhenIdle(session: Http2Session, timeoutMs: number): void {
  if (timeoutMs <= 0) return;
  const watch = new IdleWatch(session, timeoutMs);
  (session as Watched<Http2Session>)[kWatch] = watch;
  session.on('stream', onStream);
  session.once('close', onSessionClose);
  watch.arm();
}

function onStream(this: Watched<Http2Session>, stream: Watched<ServerHttp2Stream>): void {
  const watch = this[kWatch]!;
  if (watch.open++ === 0) clearTimeout(watch.timer);
  // A closed stream no longer knows its session: it keeps the watch instead.
  stream[kWatch] = watch;
  stream.once('close', onStreamClose);
}

function onStreamClose(this: Watched<ServerHttp2Stream>): void {
  const watch = this[kWatch]!;
  if (--watch.open === 0 && !watch.session.destroyed) watch.arm();
}

function onSessionClose(this: Watched<Http2Session>): void {
  clearTimeout(this[kWatch]!.timer);
}

function onIdle(watch: IdleWatch): void {
  if (watch.open === 0 && !watch.session.closed) watch.session.close();
}
