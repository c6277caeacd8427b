// Echoes every WebSocket message; plain HTTP requests get the pid.
'use strict';
const http = require('http');
const { WebSocketServer } = require('ws');
const server = http.createServer((req, res) => res.end(`echo ${process.pid} ${req.url}`));
const wss = new WebSocketServer({ server });
wss.on('connection', (socket, req) => {
  socket.send(JSON.stringify({ hello: process.pid, url: req.url, xff: req.headers['x-forwarded-for'] || '' }));
  socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
});
server.listen(process.env.PORT);
