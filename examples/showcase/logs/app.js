// Writes a line to stdout for each POST /logs/app.js/write; nodehost captures it into this
// folder's iisnode/ log files.
const http = require('http');

let written = 0;
console.log(`process ${process.pid} started`);
http.createServer((req, res) => {
  if (req.method !== 'POST') {
    res.statusCode = 405;
    res.setHeader('Allow', 'POST');
    return res.end();
  }
  written++;
  const line = `line ${written} from process ${process.pid} at ${new Date().toISOString()}`;
  console.log(line);
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ line }));
}).listen(process.env.PORT);
