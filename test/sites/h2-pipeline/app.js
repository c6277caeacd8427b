// The node application of the HTTP/2 pipeline tests, by the last path segment:
//   text      about 40 KB of text/plain, the same every time (compressible)
//   page      a small HTML page with a link for the outbound rule
//   slow      a POST whose body it reads only once `release` came; answers the bytes read
//   state     whether a `slow` upload is held (its head has arrived)
//   release   lets the held `slow` upload be read
//   drip      a response written a piece every 20 ms until it is closed
//   dripstate how the latest `drip` went: pieces written, closed, finished
//   partial   a POST it reads to the end; `partialstate` tells the bytes, and whether it ended or was aborted
'use strict';
const http = require('http');

const TEXT = Array.from({ length: 1000 }, (_, i) => `line ${i} of a text that compresses well\n`).join('');
let release;
let drip = null;
let partial = null;

http
  .createServer((req, res) => {
    const route = new URL(req.url, 'http://x').pathname.split('/').pop();
    if (route === 'text') {
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': Buffer.byteLength(TEXT) });
      res.end(TEXT);
    } else if (route === 'page') {
      res.writeHead(200, { 'Content-Type': 'text/html' });
      res.end('<a href="/old/x">x</a>');
    } else if (route === 'slow') {
      // Not a byte is read: the host must stop taking the body from the client.
      req.pause();
      let bytes = 0;
      release = () => {
        req.on('data', (chunk) => (bytes += chunk.length));
        req.on('end', () => res.end(JSON.stringify({ bytes })));
        req.resume();
      };
    } else if (route === 'state') {
      res.end(JSON.stringify({ isHeld: release !== undefined }));
    } else if (route === 'drip') {
      const state = { pieces: 0, isClosed: false, isFinished: false };
      drip = state;
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      const timer = setInterval(() => {
        state.pieces++;
        res.write('drip\n');
      }, 20);
      res.on('close', () => {
        clearInterval(timer);
        state.isClosed = true;
        state.isFinished = res.writableFinished;
      });
    } else if (route === 'partial') {
      const state = { bytes: 0, isEnded: false, isClosed: false };
      partial = state;
      req.on('data', (chunk) => (state.bytes += chunk.length));
      req.on('end', () => {
        state.isEnded = true;
        res.end(JSON.stringify(state));
      });
      req.on('close', () => (state.isClosed = true));
    } else if (route === 'partialstate') {
      res.end(JSON.stringify(partial));
    } else if (route === 'dripstate') {
      res.end(JSON.stringify(drip));
    } else if (route === 'release') {
      const held = release;
      release = undefined;
      if (held) held();
      res.end(held ? 'released' : 'nothing held');
    } else {
      res.end('h2 pipeline app');
    }
  })
  .listen(process.env.PORT);
