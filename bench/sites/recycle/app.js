// The application of the recycle load test: answers its version; the test rewrites VERSION.
'use strict';
const VERSION = 'v1';
require('http').createServer((req, res) => res.end(VERSION)).listen(process.env.PORT);
