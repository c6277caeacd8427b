// The application of the recycle tests. Tests copy this folder to a temp dir and rewrite the
// VERSION line (and node_modules/dep.js) to deploy a "new version".
'use strict';
const VERSION = 'v1';
const http = require('http');
const fs = require('fs');
const net = require('net');
const path = require('path');

const kept = [];
let dep = '';
try {
  dep = require('./node_modules/dep.js').version;
} catch {
  dep = 'none';
}

const server = http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const route = url.pathname.replace(/^\/app\.js/, '');
  if (route === '/version') {
    res.end(VERSION);
  } else if (route === '/dep') {
    res.end(dep);
  } else if (route === '/pid') {
    res.end(`${process.pid} ${VERSION}`);
  } else if (route === '/env') {
    res.end(String(process.env.APP_COLOR));
  } else if (route === '/signal') {
    // Ask nodehost to recycle this application through IISNODE_CONTROL_PIPE.
    const pipe = net.connect(process.env.IISNODE_CONTROL_PIPE);
    pipe.on('error', (err) => res.end(`error ${err.message}`));
    pipe.on('connect', () => pipe.end('recycle', () => res.end(`signalled by ${process.pid}`)));
  } else if (route === '/yml') {
    // Rewrites iisnode.yml from inside a request (iisnode tests 125/126).
    fs.writeFileSync(path.join(__dirname, 'iisnode.yml'), url.searchParams.get('text') || '');
    res.end('written');
  } else if (route === '/grow') {
    // Keeps ~?mb= MiB of touched memory alive (for maxMemoryPerProcessMB).
    const mb = Number(url.searchParams.get('mb') || 100);
    kept.push(Buffer.alloc(mb * 1024 * 1024, 1));
    res.end(`grew ${process.pid}`);
  } else if (route === '/hold') {
    // Answers the head and the version at once, the rest when the request body ends.
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write(`${VERSION} ${process.pid}\n`);
    req.resume();
    req.on('end', () => res.end(`done ${VERSION}`));
  } else {
    res.statusCode = 404;
    res.end('no route');
  }
});

process.on('SIGTERM', () => {
  // Proof for the tests that the old worker got SIGTERM before it stopped.
  fs.writeFileSync(path.join(__dirname, `sigterm-${process.pid}.txt`), VERSION);
  server.close();
  process.exit(0);
});

// While a file named hold-start exists, a new process does not listen (its start-up "takes as
// long as the test wants"); it writes held.txt with its pid, then listens once hold-start is gone.
const holdFile = path.join(__dirname, 'hold-start');
if (fs.existsSync(holdFile)) {
  const watcher = fs.watch(__dirname, () => release());
  const release = () => {
    if (fs.existsSync(holdFile)) return;
    watcher.close();
    server.listen(process.env.PORT);
  };
  // Written whole, then renamed: the test reads it as soon as it appears.
  fs.writeFileSync(path.join(__dirname, 'held.tmp'), `${process.pid} ${VERSION}`);
  fs.renameSync(path.join(__dirname, 'held.tmp'), path.join(__dirname, 'held.txt'));
  release();
} else {
  server.listen(process.env.PORT);
}
