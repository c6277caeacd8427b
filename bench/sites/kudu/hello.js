// The benchmark app: the smallest useful node server, so that what is measured is the
// front (nodehost, a proxy, or nothing) and not the app. CommonJS on purpose: iisnode-era
// apps are CommonJS, and the harness writes a package.json next to this copy so that
// node never reads it as an ES module. Body: 13 bytes; `?kb=N` answers N KiB instead
// (precomputed, so the app's cost stays flat); a POST body is read and its size returned.
const bodies = new Map();
require('http')
  .createServer((req, res) => {
    if (req.method === 'POST') {
      let bytes = 0;
      req.on('data', (chunk) => (bytes += chunk.length));
      req.on('end', () => res.end(String(bytes)));
      return;
    }
    const at = req.url.indexOf('?kb=');
    if (at === -1) return res.end('Hello, world!');
    const kb = Number(req.url.slice(at + 4));
    let body = bodies.get(kb);
    if (body === undefined) bodies.set(kb, (body = Buffer.alloc(kb * 1024, 'x')));
    res.end(body);
  })
  .listen(process.env.PORT);
