// The application of the log tests: each route writes to stdout or stderr in a known way.
'use strict';
const http = require('http');

function params(req) {
  return new URL(req.url, 'http://x').searchParams;
}

const routes = {
  // One line on stdout: ?text=
  log(req, res) {
    console.log(params(req).get('text'));
    res.end('ok');
  },
  // One line on stderr: ?text=
  err(req, res) {
    console.error(params(req).get('text'));
    res.end('ok');
  },
  // ?n= lines of ?len= characters on stdout, each line numbered from ?from= (default 0): "<pid> <i> xxxx...".
  lines(req, res) {
    const q = params(req);
    const n = Number(q.get('n') || 1);
    const len = Number(q.get('len') || 100);
    const from = Number(q.get('from') || 0);
    for (let i = from; i < from + n; i++) {
      const head = `${process.pid} ${i} `;
      process.stdout.write(head + 'x'.repeat(Math.max(0, len - head.length)) + '\n');
    }
    res.end(String(process.pid));
  },
  // ?mb= megabytes of 1 KiB lines on stdout, written as fast as the pipe takes them.
  burst(req, res) {
    const mb = Number(params(req).get('mb') || 1);
    const line = 'y'.repeat(1023) + '\n';
    const block = line.repeat(64);
    const total = mb * 16;
    let sent = 0;
    const pump = () => {
      while (sent < total) {
        sent++;
        if (!process.stdout.write(block)) return process.stdout.once('drain', pump);
      }
      res.end('done');
    };
    pump();
  },
  // An uncaught exception, thrown outside the request's stack.
  throw(req, res) {
    res.end('throwing');
    setImmediate(() => {
      throw new Error('boom from the log test');
    });
  },
  pid(req, res) {
    res.end(String(process.pid));
  },
};

http
  .createServer((req, res) => {
    const name = new URL(req.url, 'http://x').pathname.split('/').pop();
    const route = routes[name];
    if (route) route(req, res);
    else {
      res.statusCode = 404;
      res.end('no route');
    }
  })
  .listen(process.env.PORT);
