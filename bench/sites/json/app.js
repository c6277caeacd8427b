// Answers GET /app.js with the same ~100 KiB JSON document every time (Content-Length set),
// and /app.js?ready with "ok" for the harness's readiness probe.
const http = require('node:http');

const rows = [];
for (let i = 0, size = 2; size < 100 * 1024; i++) {
  const row = JSON.stringify({ id: i, name: `customer ${i}`, email: `user${i}@example.test`, tags: ['alpha', 'beta'], balance: ((i * 7919) % 100000) / 100, active: i % 3 !== 0 });
  rows.push(row);
  size += row.length + 1;
}
const body = Buffer.from(`[${rows.join(',')}]`);

http.createServer((req, res) => {
  if (req.url.endsWith('?ready')) return res.end('ok');
  res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': body.length });
  res.end(body);
}).listen(process.env.PORT);
