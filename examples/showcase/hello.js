// The smallest iisnode application: listen on process.env.PORT (a Unix socket nodehost gives).
const http = require('http');

let served = 0;
http.createServer((req, res) => {
  served++;
  res.setHeader('Content-Type', 'text/plain');
  res.end(`Hello, world! [showcase; nodehost ${process.env.IISNODE_VERSION}, node ${process.version}]\n` +
    `${process.env.SHOWCASE_GREETING}. Process ${process.pid} has served ${served} request(s); URL seen by node: ${req.url}\n`);
}).listen(process.env.PORT);
