const http = require('http');
http.createServer((req, res) => {
  res.setHeader('Content-Type', 'text/html');
  res.end('<h1>node error page</h1><p>asked for ' + req.url + '</p>');
}).listen(process.env.PORT);
