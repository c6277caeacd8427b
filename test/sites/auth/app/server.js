// The application of the authentication tests: /echo answers with the request as node saw it,
// /hold keeps its response open until a /release arrives (for the concurrency limits).
'use strict';
const http = require('http');

const held = [];
http.createServer((req, res) => {
  const route = req.url.split('?')[0].split('/').pop();
  if (route === 'hold') {
    held.push(res);
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write('held ');
    return;
  }
  if (route === 'release') {
    const count = held.length;
    for (const waiting of held.splice(0)) waiting.end('released');
    res.end(String(count));
    return;
  }
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers }));
}).listen(process.env.PORT);
