/**
 * watchStreams keeps the two per-session rules that count a server session's streams. It adds
 * no listener per stream: the listener's stream adapters (http2/http2-streams.ts), which have
 * their own 'close' listener on every stream, call noteStreamOpen and noteStreamClose.
 *
 * - idle close: a session that has had no open stream for `idleTimeoutMs` is closed (GOAWAY;
 *   nginx's keepalive_timeout for HTTP/2; node's own session timeout is off). An idle browser
 *   connection otherwise holds its socket, its TLS state and a connection slot for ever. The
 *   timer runs only while no stream is open, so a long poll or a slow download is never cut.
 *   (Node's session.setTimeout is not used: it counts frames, not streams, and arming it
 *   changes how node ends a session that broke the stream limit.)
 * - rapid reset (CVE-2023-44487): each HEADERS+RST_STREAM pair costs the host a request while
 *   costing the client two frames, so the streams a client may reset before their response
 *   ended are bounded. Each session gets a budget of RESET_BURST resets that refills at
 *   RESET_PER_SECOND; a client that spends it gets GOAWAY ENHANCE_YOUR_CALM and its connection
 *   closed. nghttp2 has its own limit (a burst of 1000, then 33 a second), but it only stops
 *   reading: the connection stays open until the client closes it.
 */
import type { Http2Session, ServerHttp2Stream } from 'node:http2';
import { lazyRequire } from '../lazy-require.js';

const http2 = lazyRequire<typeof import('node:http2')>('node:http2');

/** RESET_BURST resets are allowed at once; browsers cancel a few streams, never hundreds. */
export const RESET_BURST = 500;
/** RESET_PER_SECOND is the rate at which the budget refills (nghttp2's rate). */
export const RESET_PER_SECOND = 33;

/** StreamWatch is one session's open stream count, idle timer and reset budget. */
class StreamWatch {
  readonly session: Http2Session;
  /** 0: the session is never closed for idleness. */
  readonly idleTimeoutMs: number;
  open = 0;
  timer: NodeJS.Timeout | undefined;
  tokens = RESET_BURST;
  refilledAt = performance.now();

  constructor(session: Http2Session, idleTimeoutMs: number) {
    this.session = session;
    this.idleTimeoutMs = idleTimeoutMs;
  }

  armIdleTimer(): void {
    if (this.idleTimeoutMs <= 0) return;
    this.timer = setTimeout(onIdle, this.idleTimeoutMs, this);
    this.timer.unref();
  }

  /** spendReset takes one reset from the budget; false when it is spent. */
  spendReset(): boolean {
    const now = performance.now();
    this.tokens = Math.min(RESET_BURST, this.tokens + ((now - this.refilledAt) / 1000) * RESET_PER_SECOND);
    this.refilledAt = now;
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }
}

const kWatch = Symbol('nodehost.streamWatch');

type Watched<T> = T & { [kWatch]?: StreamWatch };

/** watchStreams applies the idle close (when `idleTimeoutMs` > 0) and the reset limit to one server session. */
export function watchStreams(session: Http2Session, idleTimeoutMs: number): void {
  const watch = new StreamWatch(session, idleTimeoutMs);
  (session as Watched<Http2Session>)[kWatch] = watch;
  session.once('close', onSessionClose);
  watch.armIdleTimer();
}

/** noteStreamOpen counts a new stream of `session` (a session watchStreams was not given is not counted); its close must reach noteStreamClose. */
export function noteStreamOpen(session: Http2Session, stream: ServerHttp2Stream): void {
  const watch = (session as Watched<Http2Session>)[kWatch];
  if (watch === undefined) return;
  if (watch.open++ === 0) clearTimeout(watch.timer);
  // A closed stream no longer knows its session: it keeps the watch instead.
  (stream as Watched<ServerHttp2Stream>)[kWatch] = watch;
}

/** noteStreamClose counts a stream's close: a reset spends the session's budget; the last open stream starts the idle timer. */
export function noteStreamClose(stream: ServerHttp2Stream): void {
  const watch = (stream as Watched<ServerHttp2Stream>)[kWatch];
  if (watch === undefined) return;
  const session = watch.session;
  if (session.destroyed) return;
  if (stream.aborted && !watch.spendReset()) {
    session.goaway(http2().constants.NGHTTP2_ENHANCE_YOUR_CALM);
    session.destroy();
    return;
  }
  if (--watch.open === 0) watch.armIdleTimer();
}

function onSessionClose(this: Watched<Http2Session>): void {
  clearTimeout(this[kWatch]!.timer);
}

function onIdle(watch: StreamWatch): void {
  if (watch.open === 0 && !watch.session.closed) watch.session.close();
}
