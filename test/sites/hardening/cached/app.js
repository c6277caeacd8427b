// The cache-poisoning tests' application (test/hardening/cache-poisoning.test.ts): it echoes
// into its body the request headers that frameworks trust for links, routing and methods,
// without a Vary, as a careless app does; `n` counts the requests that reached it.
'use strict';
const http = require('http');
const zlib = require('zlib');

let n = 0;
const REFLECTED = [
  'host',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-forwarded-scheme',
  'x-forwarded-port',
  'x-forwarded-prefix',
  'x-forwarded-server',
  'x-host',
  'forwarded',
  'x-original-url',
  'x-rewrite-url',
  'x-http-method-override',
  'x-http-method',
  'x-method-override',
];

http
  .createServer((req, res) => {
    n++;
    let body = '';
    req.setEncoding('latin1');
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      const echo = { n, url: req.url, body };
      for (const name of REFLECTED) if (req.headers[name] !== undefined) echo[name] = req.headers[name];
      const text = JSON.stringify(echo);
      // Compresses whenever the header mentions gzip, whatever its q says, and sends no Vary.
      if (req.url.includes('naive-gzip') && /gzip/.test(req.headers['accept-encoding'] || '')) {
        res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Encoding': 'gzip' });
        res.end(zlib.gzipSync(text));
        return;
      }
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.end(text);
    });
  })
  .listen(process.env.PORT);
