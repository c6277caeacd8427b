// A large text answer (about 120 KB, very repetitive): the kind that compression shrinks most.
const http = require('http');

const words = ['static', 'worker', 'generation', 'recycle', 'rewrite', 'socket', 'pipeline', 'header'];
const lines = [];
for (let i = 0; i < 4000; i++) lines.push(`${String(i).padStart(4, '0')} ${words[i % words.length]} ${words[(i * 3) % words.length]} nodehost`);
const body = `${lines.join('\n')}\n`;

http.createServer((req, res) => {
  res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  res.end(body);
}).listen(process.env.PORT);
