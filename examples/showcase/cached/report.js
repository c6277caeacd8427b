// An "expensive" report: 50 ms of CPU per answer. Its folder's web.config caches it for
// 5 seconds, so reloading the page shows the same report (and `x-nodehost-cache: hit`)
// until it expires, and node computes it at most once per 5 s however many ask.
const http = require('http');

let computed = 0;
http.createServer((req, res) => {
  const until = Date.now() + 50;
  while (Date.now() < until) { /* the expensive part */ }
  computed++;
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ generatedAt: new Date().toISOString(), computedByThisProcess: computed, pid: process.pid }, null, 2) + '\n');
}).listen(process.env.PORT);
