// Each process counts the requests it answered (iisnode functional test 124).
'use strict';
const http = require('http');

let n = 1;

http.createServer((req, res) => {
  res.writeHead(200, { 'Content-Type': 'text/html' });
  res.end('Hello, world ' + n++);
}).listen(process.env.PORT);
