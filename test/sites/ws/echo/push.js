// Pushes three messages to each WebSocket client, then closes it.
'use strict';
const http = require('http');
const { WebSocketServer } = require('ws');
const server = http.createServer((req, res) => res.end('push'));
const wss = new WebSocketServer({ server });
wss.on('connection', (socket) => {
  socket.send('one');
  socket.send('two');
  socket.send('three');
  socket.close(1000, 'done');
});
server.listen(process.env.PORT);
