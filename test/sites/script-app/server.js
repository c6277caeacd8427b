// A pm2-style application: no web.config, `nodehost serve server.js` runs it.
const http = require('node:http');

http.createServer((req, res) => res.end(`server.js pid ${process.pid} url ${req.url}`)).listen(process.env.PORT);
