// Echoes the request as node received it: the URL, the headers (including the X-iisnode-*
// server variables promoted by the root web.config) and the body.
const http = require('http');
http.createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (chunk) => (body += chunk));
  req.on('end', () => {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ method: req.method, url: req.url, headers: req.headers, body }));
  });
}).listen(process.env.PORT);
