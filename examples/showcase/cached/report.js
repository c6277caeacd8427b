// A slow report: half a second per answer. Its folder's web.config caches it for 5 seconds,
// so reloading shows the same report (and `x-nodehost-cache: hit`) at once until it expires,
// and node computes it at most once per 5 s however many ask.
const http = require('http');

let computed = 0;
http.createServer((req, res) => {
  setTimeout(() => {
    computed++;
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ generatedAt: new Date().toISOString(), computedByThisProcess: computed, pid: process.pid }, null, 2) + '\n');
  }, 500);
}).listen(process.env.PORT);
