// GET /deploy/app.js/ping answers this process's pid and the deployment it started with;
// POST /deploy/app.js/deploy writes the next deployment number into deployed.txt, a watched
// file, which makes nodehost recycle the app as a real deploy would.
const fs = require('fs');
const http = require('http');
const path = require('path');

const file = path.join(__dirname, 'deployed.txt');
const deployment = readDeployment();

http.createServer((req, res) => {
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('Cache-Control', 'no-store');
  if (req.method === 'POST' && req.url === '/deploy/app.js/deploy') {
    const next = readDeployment() + 1;
    fs.writeFileSync(file, `${next}\n`);
    return res.end(JSON.stringify({ deploying: next }));
  }
  res.end(JSON.stringify({ pid: process.pid, deployment }));
}).listen(process.env.PORT);

function readDeployment() {
  try {
    return Number(fs.readFileSync(file, 'utf8').trim()) || 0;
  } catch {
    return 0;
  }
}
