// The hardening suite's application: counts what reaches it, so a test can tell that a refused
// request was never forwarded, and holds requests open to see whether they are aborted.
'use strict';
const http = require('http');

const seen = [];
let aborted = 0;
// The body bytes each `hold` request received, by its target.
const bodies = {};
const hoard = [];
// The responses of `park` requests, until `release` answers them.
const parked = [];

const routes = {
  // What reached the app so far (this route itself excluded).
  seen(req, res) {
    json(res, { seen, aborted, bodies });
  },
  // Which process answered.
  pid(req, res) {
    res.end(String(process.pid));
  },
  // Answers after 200 ms: a request that holds its slot for a while.
  slow(req, res) {
    setTimeout(() => res.end('slow'), 200);
  },
  // Never answers on its own: the client's going away must abort it.
  wait(req, res) {
    req.on('close', () => {
      if (!res.writableEnded) aborted++;
    });
  },
  // Answers only when `release` is asked: a request whose client may leave meanwhile.
  park(req, res) {
    parked.push(res);
    req.on('close', () => {
      if (!res.writableEnded) aborted++;
    });
  },
  // Answers every parked request, then says how many there were.
  release(req, res) {
    const count = parked.length;
    for (const waiting of parked.splice(0)) waiting.end('released');
    res.end(String(count));
  },
  // Reads the body and keeps what came; answers only at its end, so a cut body shows as an abort.
  hold(req, res) {
    bodies[req.url] = '';
    req.setEncoding('latin1');
    req.on('data', (chunk) => (bodies[req.url] += chunk));
    req.on('end', () => res.end('held'));
    req.on('close', () => {
      if (!res.writableEnded) aborted++;
    });
  },
  // Blocks the event loop for good: only the host's heartbeat can tell, and only a kill ends it.
  block() {
    for (;;);
  },
  // Keeps about 2 MB of heap per request: a leak that a heap budget must catch.
  grow(req, res) {
    hoard.push(new Array(256 * 1024).fill(hoard.length));
    res.end(String(process.pid));
  },
  // Reads the request body, then answers with its size.
  upload(req, res) {
    let bytes = 0;
    req.on('data', (chunk) => (bytes += chunk.length));
    req.on('end', () => json(res, { bytes }));
  },
  // Content-Length together with a non-chunked Transfer-Encoding, as a confused app may set.
  clgzip(req, res) {
    res.writeHead(200, { 'Content-Length': '5', 'Transfer-Encoding': 'gzip', 'Content-Type': 'text/plain' });
    res.end('hello');
  },
};

function json(res, value) {
  const body = JSON.stringify(value);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

http
  .createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const route = path.slice(path.lastIndexOf('/') + 1);
    if (route !== 'seen') seen.push({ method: req.method, url: req.url, rawHeaders: req.rawHeaders });
    (routes[route] || ((q, s) => s.end('app')))(req, res);
  })
  .listen(process.env.PORT);
