const http = require('http');
http.createServer((req, res) => {
  if (req.url.startsWith('/app.js/slow')) {
    setTimeout(() => res.end('slow'), 1500);
    return;
  }
  res.setHeader('X-Powered-By', 'Express');
  res.setHeader('Content-Type', 'text/plain');
  res.end('hello from node');
}).listen(process.env.PORT);
