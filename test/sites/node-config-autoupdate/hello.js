// Rewrites its own iisnode.yml while answering ?update or ?revert; otherwise each process
// counts the requests it answered (iisnode functional test 125).
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');

let n = 1;

http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html' });
  const query = new URL(req.url, 'http://localhost').search;
  if (query === '?update') {
    fs.writeFileSync(path.join(__dirname, 'iisnode.yml'), 'nodeProcessCountPerApplication: 4');
    res.end('iisnode.yml updated');
  } else if (query === '?revert') {
    fs.writeFileSync(path.join(__dirname, 'iisnode.yml'), 'nodeProcessCountPerApplication: 2');
    res.end('iisnode.yml reverted');
  } else {
    res.end('Hello, world ' + n++);
  }
}).listen(process.env.PORT);
