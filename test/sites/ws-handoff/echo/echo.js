// Echoes WebSocket messages. Its first message says which process holds the connection and
// what it sees of it: the peer's port (the client's own when the socket was handed over, none
// on the host's Unix socket), the target, X-Forwarded-For and whether a hand-off header leaked.
'use strict';
const http = require('http');
const { WebSocketServer } = require('ws');
const server = http.createServer((req, res) => res.end(`echo ${process.pid} ${req.url}`));
const wss = new WebSocketServer({ server });
wss.on('connection', (socket, req) => {
  socket.send(
    JSON.stringify({
      pid: process.pid,
      remotePort: socket._socket.remotePort ?? null,
      url: req.url,
      xff: req.headers['x-forwarded-for'] ?? '',
      leaked: req.rawHeaders.some((h) => /handoff/i.test(h)),
    }),
  );
  socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
});
server.listen(process.env.PORT);
