// Test app for hostProcesses: tells its pid, holds requests open until a file exists, and
// remembers the most requests it ever had in flight at once.
const fs = require('node:fs');
const http = require('node:http');
const net = require('node:net');

let active = 0;
let maxActive = 0;

http.createServer((req, res) => {
  const url = new URL(req.url, 'http://x');
  const action = url.pathname.replace(/^.*\/app\.js\/?/, '');
  active++;
  maxActive = Math.max(maxActive, active);
  res.on('close', () => active--);
  if (action === 'hold') {
    // The head and the pid go out at once; the end waits for the release file.
    const release = url.searchParams.get('release');
    res.writeHead(200, { 'Content-Type': 'text/plain' });
    res.write(`${process.pid}\n`);
    const timer = setInterval(() => {
      if (!fs.existsSync(release)) return;
      clearInterval(timer);
      res.end('released\n');
    }, 20);
    return;
  }
  if (action === 'max') {
    res.end(`${process.pid} ${maxActive}`);
    return;
  }
  if (action === 'signal') {
    const pipe = net.connect(process.env.IISNODE_CONTROL_PIPE, () => pipe.end('recycle'));
    pipe.on('close', () => res.end('signalled'));
    return;
  }
  res.end(`${process.pid}`);
}).listen(process.env.PORT);
