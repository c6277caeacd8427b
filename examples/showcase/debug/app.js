// An app to debug: set a breakpoint in DevTools on the line below, then reload /debug/app.js.
const http = require('http');

let visits = 0;
http.createServer((req, res) => {
  visits++;
  res.setHeader('Content-Type', 'text/plain');
  res.end(`Visit ${visits}, process ${process.pid}, started with: ${process.execArgv.join(' ') || '(no inspector)'}\n`);
}).listen(process.env.PORT);
