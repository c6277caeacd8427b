// Counts the requests that reach node: a cache hit leaves the count where it was.
'use strict';
let count = 0;
require('http')
  .createServer((req, res) => {
    count++;
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.end(`request ${count}`);
  })
  .listen(process.env.PORT);
