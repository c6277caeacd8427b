// The application of the recycle load test: answers its version; the test rewrites VERSION.
// START_DELAY_MS stands for an application's start-up work (loading, warming caches) before it listens.
'use strict';
const VERSION = 'v1';
const server = require('http').createServer((req, res) => res.end(VERSION));
setTimeout(() => server.listen(process.env.PORT), Number(process.env.START_DELAY_MS) || 0);
