const http = require('http');
http.createServer((req, res) => {
  const url = req.url.replace(/^\/\w+\/app\.js|^\/app\.js/, '');
  if (url === '/json404') {
    res.writeHead(404, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ error: 'no such user' }));
  } else if (url === '/empty404') {
    res.statusCode = 404;
    res.end();
  } else if (url === '/chunked404') {
    res.writeHead(404, { 'Content-Type': 'text/plain' });
    res.write('');
    res.end();
  } else {
    res.setHeader('Content-Type', 'text/plain');
    res.end('ok');
  }
}).listen(process.env.PORT);
