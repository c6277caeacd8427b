/**
 * limitResets bounds the streams an HTTP/2 client may reset before their response ended
 * (rapid reset, CVE-2023-44487: each HEADERS+RST_STREAM pair costs the host a request while
 * costing the client two frames). Each session gets a budget of RESET_BURST resets that
 * refills at RESET_PER_SECOND; a client that spends it gets GOAWAY ENHANCE_YOUR_CALM and its
 * connection closed. nghttp2 has its own limit (a burst of 1000, then 33 a second), but it
 * only stops reading: the connection stays open until the client closes it.
 */
import type { Http2Session, ServerHttp2Stream } from 'node:http2';
import { lazyRequire } from '../lazy-require.js';

const http2 = lazyRequire<typeof import('node:http2')>('node:http2');

/** RESET_BURST resets are allowed at once; browsers cancel a few streams, never hundreds. */
export const RESET_BURST = 500;
/** RESET_PER_SECOND is the rate at which the budget refills (nghttp2's rate). */
export const RESET_PER_SECOND = 33;

/** ResetBudget is one session's token bucket. */
class ResetBudget {
  readonly session: Http2Session;
  tokens = RESET_BURST;
  at = performance.now();

  constructor(session: Http2Session) {
    this.session = session;
  }
}

const kBudget = Symbol('nodehost.resetBudget');

type WithBudget<T> = T & { [kBudget]?: ResetBudget };

/** limitResets watches the streams of one server session. */
export function limitResets(session: Http2Session): void {
  (session as WithBudget<Http2Session>)[kBudget] = new ResetBudget(session);
  session.on('stream', onStream);
}

function onStream(this: WithBudget<Http2Session>, stream: WithBudget<ServerHttp2Stream>): void {
  // A closed stream no longer knows its session: it keeps the budget instead.
  stream[kBudget] = this[kBudget];
  stream.once('close', onStreamClose);
}

function onStreamClose(this: WithBudget<ServerHttp2Stream>): void {
  const budget = this[kBudget];
  if (!this.aborted || budget === undefined) return;
  const session = budget.session;
  if (session.destroyed) return;
  const now = performance.now();
  budget.tokens = Math.min(RESET_BURST, budget.tokens + ((now - budget.at) / 1000) * RESET_PER_SECOND);
  budget.at = now;
  if (budget.tokens >= 1) {
    budget.tokens--;
    return;
  }
  session.goaway(http2().constants.NGHTTP2_ENHANCE_YOUR_CALM);
  session.destroy();
}
