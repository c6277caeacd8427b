// The node app of the output-cache tests (every folder's app.js runs it). It counts the GET
// and HEAD requests it receives, so a test can tell whether a request reached node:
//   POST <app>?count                answers that count (POST is never cached)
//   POST <app>?release=<name>       answers the request held under <name>
//   GET  <app>?hold=<name>          the first such request waits for its release; with
//        &gather=<n>                the later ones wait until n of them are here at once
//   &mode=cookie|private|vary|big   Set-Cookie, Cache-Control: private, Vary: X-Other, or a
//        &bytes=<n>&chunked         body of n bytes (written in 100-byte pieces with &chunked)
//   &mode=validators                ETag "v1" and a fixed Last-Modified
'use strict';
const http = require('http');

module.exports = function serve(tag) {
  let count = 0;
  const held = new Map();
  const gathering = new Map();
  http.createServer((req, res) => {
    const q = new URL(req.url, 'http://x').searchParams;
    if (req.method === 'POST') {
      if (q.has('release')) {
        const name = q.get('release');
        const waiting = held.get(name);
        if (waiting) waiting();
        res.end(waiting ? 'released' : 'nothing held');
        return;
      }
      res.end(String(count));
      return;
    }
    count++;
    const n = count;
    const send = () => {
      const mode = q.get('mode');
      if (mode === 'cookie') res.setHeader('Set-Cookie', 'session=' + n);
      if (mode === 'private') res.setHeader('Cache-Control', 'private');
      if (mode === 'vary') res.setHeader('Vary', 'X-Other');
      if (mode === 'validators') {
        res.setHeader('ETag', '"v1"');
        res.setHeader('Last-Modified', 'Tue, 01 Dec 2026 10:00:00 GMT');
      }
      res.setHeader('Content-Type', 'text/plain');
      if (mode === 'big') {
        const body = 'x'.repeat(Number(q.get('bytes')));
        if (!q.has('chunked')) return res.end(body);
        for (let i = 0; i < body.length; i += 100) res.write(body.slice(i, i + 100));
        return res.end();
      }
      res.end(`${tag} pid=${process.pid} #${n} ${req.url} lang=${req.headers['x-lang'] || ''}`);
    };
    const name = q.get('hold');
    if (name === null) return send();
    if (!held.has(name)) {
      held.set(name, send);
      return;
    }
    const gather = Number(q.get('gather') || 0);
    const group = gathering.get(name) || [];
    gathering.set(name, group);
    group.push(send);
    if (group.length >= gather) for (const answer of group.splice(0)) answer();
  }).listen(process.env.PORT);
};
