// The benchmark app: the smallest useful node server, so that what is measured is the
// front (nodehost, a proxy, or nothing) and not the app. CommonJS on purpose: iisnode-era
// apps are CommonJS, and the harness writes a package.json next to this copy so that
// node never reads it as an ES module. Body: 13 bytes.
require('http')
  .createServer((req, res) => res.end('Hello, world!'))
  .listen(process.env.PORT);
