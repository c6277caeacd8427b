// The node side of test/compression.test.ts: one route per behaviour, chosen by the last
// path segment. /app.js/hold writes a first piece and ends only when /app.js/release comes.
const http = require('node:http');
const zlib = require('node:zlib');

const held = new Map();

/** json returns a JSON text of about `bytes` bytes, the same every time. */
function json(bytes) {
  const rows = [];
  let size = 2;
  for (let i = 0; size < bytes; i++) {
    const row = JSON.stringify({ id: i, name: `item number ${i}`, tags: ['alpha', 'beta', 'gamma'], price: (i * 37) % 1000 / 10 });
    rows.push(row);
    size += row.length + 1;
  }
  return `[${rows.join(',')}]`;
}

http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const route = url.pathname.split('/').pop();
  const body = json(Number(url.searchParams.get('bytes') || 20000));
  switch (route) {
    case 'json':
      res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(body), ETag: '"j1"' });
      return res.end(body);
    case 'chunks': {
      // Many small writes, chunked: compressed as they stream.
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      for (let i = 0; i < 200; i++) res.write(`line ${i} of a response written piece by piece\n`);
      return res.end();
    }
    case 'vary':
      res.writeHead(200, { 'Content-Type': 'text/html', Vary: 'Cookie' });
      return res.end(body);
    case 'small':
      res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': 5 });
      return res.end('small');
    case 'encoded': {
      const gz = zlib.gzipSync(body);
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip', 'Content-Length': gz.length });
      return res.end(gz);
    }
    case 'notransform':
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'public, no-transform' });
      return res.end(body);
    case 'partial':
      res.writeHead(206, { 'Content-Type': 'text/plain', 'Content-Range': `bytes 0-${body.length - 1}/${body.length + 10}` });
      return res.end(body);
    case 'excluded':
      res.writeHead(200, { 'Content-Type': 'application/x-not-compressed' });
      return res.end(body);
    case 'png':
      res.writeHead(200, { 'Content-Type': 'image/png' });
      return res.end(body);
    case 'hold': {
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.write('first piece\n');
      held.set(url.searchParams.get('id'), res);
      return;
    }
    case 'release': {
      const waiting = held.get(url.searchParams.get('id'));
      held.delete(url.searchParams.get('id'));
      if (waiting) waiting.end('last piece\n');
      return res.end(waiting ? 'released' : 'none');
    }
    case 'events': {
      res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' });
      res.write('data: event 1\n\n');
      held.set(url.searchParams.get('id'), {
        count: 1,
        end: () => res.end(),
        next: () => res.write(`data: event ${++held.get(url.searchParams.get('id')).count}\n\n`),
      });
      return;
    }
    case 'next': {
      const stream = held.get(url.searchParams.get('id'));
      if (url.searchParams.has('end')) {
        held.delete(url.searchParams.get('id'));
        stream.end();
      } else {
        stream.next();
      }
      return res.end('ok');
    }
    default:
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      return res.end('no route ' + route);
  }
}).listen(process.env.PORT);
