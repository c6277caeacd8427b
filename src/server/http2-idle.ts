/**
 * closeWhenIdle closes an HTTP/2 session that has had no open stream for `timeoutMs` (nginx's
 * keepalive_timeout for HTTP/2; node's own session timeout is off): an idle browser connection
 * otherwise holds its socket, its TLS state and a connection slot for ever. Node's session
 * timer restarts on every frame; a session whose streams are still open when it fires (a long
 * poll) is left alone, its timer starting again at its next frame. close() sends GOAWAY.
 */
import type { Http2Session, ServerHttp2Stream } from 'node:http2';

const kOpen = Symbol('nodehost.openStreams');

type Counted = Http2Session & { [kOpen]: number };

export function closeWhenIdle(session: Http2Session, timeoutMs: number): void {
  if (timeoutMs <= 0) return;
  (session as Counted)[kOpen] = 0;
  session.on('stream', onStream);
  session.setTimeout(timeoutMs, onIdle);
}

function onStream(this: Counted, stream: ServerHttp2Stream): void {
  this[kOpen]++;
  stream.once('close', () => this[kOpen]--);
}

function onIdle(this: Counted): void {
  if (this[kOpen] === 0) this.close();
}
