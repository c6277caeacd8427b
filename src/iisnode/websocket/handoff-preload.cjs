'use strict';
// The worker's side of the upgrade hand-off (docs/performance.md, "WebSockets handed to the
// worker"), loaded by host-link-preload.cjs when the worker has its IPC channel to the host.
//
//   host ──upgrade request + X-Nodehost-Handoff: <id>──▶ worker's http server (Unix socket)
//   worker ──{handoff-claim, id}──▶ host ──{handoff, id, head, headers} + client socket──▶ worker
//   the app's 'upgrade' listeners get (req, client socket, head); the Unix connection is dropped
//   worker ──{handoff-status, id, status}──▶ host   (the status line the app wrote: access log)
//   worker ──{handoff-end, id}──▶ host              (the client connection closed)
//   host ──{handoff-close, code, reason}──▶ worker  (end of a recycle's grace period: close
//                                                    every handed-off WebSocket with `code`)
//
// A request without the header, or one the host refuses (the client left, the id is unknown)
// or does not answer within CLAIM_WAIT_MS, reaches the app's listeners with the Unix connection
// as before, and the host pipes it. The app never sees the header.
const http = require('node:http');

const HANDOFF_HEADER = 'x-nodehost-handoff';
/** How long a claim waits for the host's answer before the request goes on over the Unix connection. */
const CLAIM_WAIT_MS = 5000;
/** The longest response head the app may write on a handed-off socket; a longer one is passed through unwatched. */
const MAX_HEAD_BYTES = 65536;

/** Claims waiting for the host's answer, by id. */
const claims = new Map();
/** Handed-off connections still open, by id. */
const connections = new Map();

/** installHandoff wraps http servers' 'upgrade' emission and listens to the host's answers. */
function installHandoff() {
  const emit = http.Server.prototype.emit;
  http.Server.prototype.emit = function emitWithHandoff(event, req, socket, head) {
    // Every other event ('request', 'connection') is passed on with its arguments as they are, with no array built per call.
    // biome-ignore lint/complexity/noArguments: see above
    if (event !== 'upgrade') return emit.apply(this, arguments);
    const id = req.headers[HANDOFF_HEADER];
    // biome-ignore lint/complexity/noArguments: see above
    if (typeof id !== 'string') return emit.apply(this, arguments);
    stripHeader(req);
    const fallBack = () => emit.call(this, 'upgrade', req, socket, head);
    const timer = setTimeout(() => {
      claims.delete(id);
      fallBack();
    }, CLAIM_WAIT_MS);
    timer.unref();
    claims.set(id, { req, socket, head, timer, server: this, emit, fallBack });
    if (!send({ nodehost: 'handoff-claim', id })) {
      clearTimeout(timer);
      claims.delete(id);
      fallBack();
    }
    return true;
  };
  process.on('message', onHostMessage);
  send({ nodehost: 'handoff-ready' });
}

function onHostMessage(message, handle) {
  if (message === null || typeof message !== 'object') return;
  switch (message.nodehost) {
    case 'handoff':
      takeSocket(message, handle);
      return;
    case 'handoff-refused': {
      const claim = claims.get(message.id);
      if (claim === undefined) return;
      claims.delete(message.id);
      clearTimeout(claim.timer);
      claim.fallBack();
      return;
    }
    case 'handoff-close':
      for (const connection of connections.values()) connection.close(message.code, message.reason);
      return;
  }
}

/** takeSocket gives a claimed upgrade its client socket and runs the app's listeners with it. */
function takeSocket(message, client) {
  const claim = claims.get(message.id);
  if (claim === undefined || client === undefined) {
    // The claim gave up waiting: the request went on over the Unix connection. The host counts
    // the socket it sent as open until it hears of its end.
    if (client !== undefined) {
      client.destroy();
      send({ nodehost: 'handoff-end', id: message.id });
    }
    return;
  }
  claims.delete(message.id);
  clearTimeout(claim.timer);
  const connection = new HandedOffConnection(message.id, client, claim.req, message.headers);
  connections.set(message.id, connection);
  // The host dropped its end of the Unix connection; nothing more comes on it.
  claim.socket.destroy();
  claim.req.socket = client;
  const fromHost = Buffer.from(message.head, 'base64');
  const head = claim.head.length === 0 ? fromHost : Buffer.concat([claim.head, fromHost]);
  claim.emit.call(claim.server, 'upgrade', claim.req, client, head);
}

/**
 * HandedOffConnection watches one handed-off client socket: the response head the app writes
 * (its status goes to the host; the host's extra header lines, e.g. the sticky-session cookie,
 * are added before its end), then the WebSocket frame boundaries of what the app writes, so a
 * close frame can be put between two frames.
 */
class HandedOffConnection {
  constructor(id, socket, req, extraHeaders) {
    this.id = id;
    this.socket = socket;
    this.isWebSocket = /^websocket$/i.test(String(req.headers.upgrade || ''));
    this.extraHeaders = Array.isArray(extraHeaders) ? extraHeaders : [];
    this.frames = new FrameBoundary();
    this.headChunks = [];
    this.headCallbacks = [];
    this.headLength = 0;
    this.isHeadDone = false;
    this.isClosing = false;
    const write = socket.write;
    const end = socket.end;
    this.write = write;
    const connection = this;
    socket.write = function writeWatched(chunk, encoding, callback) {
      return connection.onWrite(chunk, encoding, callback);
    };
    socket.end = function endWatched(chunk, encoding, callback) {
      if (typeof chunk === 'function') return end.call(this, chunk);
      if (chunk !== undefined && chunk !== null) connection.onWrite(chunk, typeof encoding === 'string' ? encoding : undefined);
      return end.call(this, typeof encoding === 'function' ? encoding : callback);
    };
    socket.once('close', () => {
      connections.delete(id);
      send({ nodehost: 'handoff-end', id });
    });
  }

  onWrite(chunk, encoding, callback) {
    if (typeof encoding === 'function') {
      callback = encoding;
      encoding = undefined;
    }
    // After the host's close frame nothing may follow on the stream.
    if (this.isClosing) {
      if (callback !== undefined) process.nextTick(callback, new Error('the connection was closed by the host (recycle)'));
      return false;
    }
    const bytes = typeof chunk === 'string' ? Buffer.from(chunk, encoding || 'utf8') : Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.isHeadDone) {
      if (this.isWebSocket) this.frames.feed(bytes);
      return this.write.call(this.socket, bytes, callback);
    }
    this.headChunks.push(bytes);
    this.headLength += bytes.length;
    if (callback !== undefined) this.headCallbacks.push(callback);
    const all = this.headChunks.length === 1 ? bytes : Buffer.concat(this.headChunks);
    const end = all.indexOf('\r\n\r\n');
    if (end < 0 && this.headLength < MAX_HEAD_BYTES) return true;
    return this.flushHead(all, end);
  }

  /** flushHead writes the watched head (with the extra header lines) and what followed it, and reports the status. */
  flushHead(all, end) {
    this.isHeadDone = true;
    this.headChunks = [];
    const callbacks = this.headCallbacks;
    this.headCallbacks = [];
    const done =
      callbacks.length === 0
        ? undefined
        : (err) => {
            for (const cb of callbacks) cb(err);
          };
    const match = /^HTTP\/1\.[01] (\d{3})/.exec(all.subarray(0, 16).toString('latin1'));
    send({ nodehost: 'handoff-status', id: this.id, status: match === null ? 0 : Number(match[1]) });
    if (end < 0) return this.write.call(this.socket, all, done);
    let extra = '';
    for (let i = 0; i + 1 < this.extraHeaders.length; i += 2) extra += `${this.extraHeaders[i]}: ${this.extraHeaders[i + 1]}\r\n`;
    const head = extra === '' ? all.subarray(0, end + 4) : Buffer.concat([all.subarray(0, end + 2), Buffer.from(extra + '\r\n', 'latin1')]);
    const rest = all.subarray(end + 4);
    if (this.isWebSocket && rest.length > 0) this.frames.feed(rest);
    return this.write.call(this.socket, rest.length === 0 ? head : Buffer.concat([head, rest]), done);
  }

  /** close ends the connection from the host's word: a close frame first when at a frame boundary, then FIN once flushed. */
  close(code, reason) {
    if (this.isClosing) return;
    if (this.isWebSocket && this.isHeadDone && this.frames.isAtBoundary() && this.socket.writable) this.write.call(this.socket, closeFrame(code, reason));
    this.isClosing = true;
    this.socket.destroySoon();
  }
}

/**
 * FrameBoundary follows the frame headers (RFC 6455 §5.2) of what the app writes, payloads
 * skipped. It is the worker's copy of src/iisnode/websocket/frame-boundary.ts: this file runs
 * inside the application as plain CommonJS and cannot load the host's modules.
 */
class FrameBoundary {
  constructor() {
    this.remaining = 0;
    this.head = Buffer.alloc(14);
    this.headLength = 0;
  }

  isAtBoundary() {
    return this.remaining === 0 && this.headLength === 0;
  }

  feed(chunk) {
    let i = 0;
    while (i < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - i);
        this.remaining -= take;
        i += take;
        continue;
      }
      this.head[this.headLength++] = chunk[i++];
      if (this.headLength < 2) continue;
      const len7 = this.head[1] & 0x7f;
      const total = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + ((this.head[1] & 0x80) !== 0 ? 4 : 0);
      if (this.headLength < total) continue;
      this.remaining = len7 === 126 ? this.head.readUInt16BE(2) : len7 === 127 ? Number(this.head.readBigUInt64BE(2)) : len7;
      this.headLength = 0;
    }
  }
}

function closeFrame(code, reason) {
  const text = Buffer.from(String(reason), 'utf8').subarray(0, 123);
  const frame = Buffer.alloc(4 + text.length);
  frame[0] = 0x88;
  frame[1] = 2 + text.length;
  frame.writeUInt16BE(code, 2);
  text.copy(frame, 4);
  return frame;
}

/** stripHeader removes the hand-off header from the request, so the app never sees it. */
function stripHeader(req) {
  delete req.headers[HANDOFF_HEADER];
  const raw = req.rawHeaders;
  for (let i = raw.length - 2; i >= 0; i -= 2) {
    if (raw[i].toLowerCase() === HANDOFF_HEADER) raw.splice(i, 2);
  }
}

function send(message) {
  if (!process.connected) return false;
  try {
    process.send(message, undefined, {}, () => {});
    return true;
  } catch {
    return false;
  }
}

module.exports = { installHandoff };
