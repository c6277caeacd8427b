// Writes one line to stdout per request, into the worker log files (loggingEnabled).
'use strict';
require('http')
  .createServer((req, res) => {
    console.log(`hit ${req.url}`);
    res.end('logged');
  })
  .listen(process.env.PORT);
