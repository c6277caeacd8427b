// The node application used by the end-to-end tests: one small HTTP server whose routes
// expose what the tests need to see (its process, environment, request as received).
'use strict';
const http = require('http');
const crypto = require('crypto');

let count = 0;
// Progress of the latest `big` download: megabytes handed to res.write, and whether it waits for 'drain'.
const download = { sent: 0, isWaiting: false };

const routes = {
  // Per-process counter: shows which process served a request and that state persists.
  count(req, res) {
    count++;
    res.end(`${process.pid} ${count}`);
  },
  env(req, res) {
    const pick = {};
    for (const key of Object.keys(process.env)) {
      if (/^(APP_|EMPTY|NODE_ENV$|PORT$|IISNODE_)/.test(key)) pick[key] = process.env[key];
    }
    json(res, { env: pick, cwd: process.cwd(), argv: process.argv.slice(1), pid: process.pid });
  },
  // The request as node received it.
  request(req, res) {
    json(res, { method: req.method, url: req.url, httpVersion: req.httpVersion, rawHeaders: req.rawHeaders });
  },
  // Repeated and empty response headers.
  headers(req, res) {
    res.writeHead(200, [['Foo', 'Val1'], ['Foo', 'Val2'], ['X-Empty', ''], ['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2'], ['Content-Type', 'text/plain']].flat());
    res.end('headers');
  },
  echo(req, res) {
    const headers = { 'content-type': req.headers['content-type'] || 'application/octet-stream', 'x-request-te': req.headers['transfer-encoding'] || '', 'x-request-cl': req.headers['content-length'] || '' };
    res.writeHead(200, headers);
    req.pipe(res);
  },
  // Counts and hashes an upload without keeping it.
  upload(req, res) {
    const hash = crypto.createHash('sha256');
    let bytes = 0;
    req.on('data', (chunk) => { bytes += chunk.length; hash.update(chunk); });
    req.on('end', () => json(res, { bytes, sha256: hash.digest('hex'), te: req.headers['transfer-encoding'] || '' }));
  },
  // A deterministic download of ?mb= megabytes, chunked unless ?length is given.
  big(req, res) {
    const q = new URL(req.url, 'http://x').searchParams;
    const mb = Number(q.get('mb') || 1);
    const block = Buffer.alloc(1024 * 1024, 'abcdefghijklmnopqrstuvwxyz0123456789');
    if (q.has('length')) res.setHeader('Content-Length', String(block.length * mb));
    let sent = 0;
    download.sent = 0;
    const pump = () => {
      download.isWaiting = false;
      while (sent < mb) {
        sent++;
        download.sent = sent;
        if (!res.write(block)) {
          download.isWaiting = true;
          return res.once('drain', pump);
        }
      }
      res.end();
    };
    pump();
  },
  bigstate(req, res) {
    json(res, download);
  },
  chunked(req, res) {
    res.setHeader('Content-Type', 'text/plain');
    res.write('one,');
    res.write('two,');
    setImmediate(() => res.end('three'));
  },
  nocontent(req, res) {
    res.writeHead(204, { 'X-Kind': 'no-content' });
    res.end();
  },
  // Holds the response open until the request body ends: lets a test keep a request active.
  hold(req, res) {
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write(`held by ${process.pid}\n`);
    req.resume();
    req.on('end', () => res.end('released'));
  },
  // Dies in the middle of a request.
  crash(req, res) {
    res.write('partial');
    process.exit(3);
  },
  status(req, res) {
    res.statusCode = Number(new URL(req.url, 'http://x').searchParams.get('code') || 200);
    res.end(`status ${res.statusCode}`);
  },
};

function json(res, value) {
  const body = JSON.stringify(value);
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** start listens on process.env.PORT; `name` is echoed by the default route. */
exports.start = function start(name) {
  const server = http.createServer((req, res) => {
    const path = new URL(req.url, 'http://x').pathname;
    const route = path.slice(path.lastIndexOf('/') + 1);
    (routes[route] || ((q, s) => s.end(`Hello, world! [${name}]`)))(req, res);
  });
  server.listen(process.env.PORT);
  return server;
};
