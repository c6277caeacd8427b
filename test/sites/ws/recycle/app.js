// A WebSocket app that can ask nodehost to recycle it through IISNODE_CONTROL_PIPE (GET ?recycle).
'use strict';
const http = require('http');
const net = require('net');
const { WebSocketServer } = require('ws');
const server = http.createServer((req, res) => {
  if (req.url.endsWith('?recycle')) {
    const pipe = net.connect(process.env.IISNODE_CONTROL_PIPE, () => pipe.end('recycle'));
    pipe.on('error', () => {});
  }
  res.end(String(process.pid));
});
const wss = new WebSocketServer({ server });
wss.on('connection', (socket) => socket.send(String(process.pid)));
server.listen(process.env.PORT);
