// Answers which instance (SCALE_OUT_INSTANCE, from its host's environment), which process and
// which deployment (version.txt, read at start) served the request; logs one line at start.
'use strict';
const fs = require('fs');
const http = require('http');
const path = require('path');

const version = fs.readFileSync(path.join(__dirname, 'version.txt'), 'utf8').trim();
const instance = process.env.SCALE_OUT_INSTANCE;
console.log(`instance ${instance} process ${process.pid} serves version ${version}`);
http
  .createServer((req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ instance, pid: process.pid, version }));
  })
  .listen(process.env.PORT);
