// Keeps every WebSocket open and says which process holds it.
'use strict';
const http = require('http');
const { WebSocketServer } = require('ws');
const server = http.createServer((req, res) => res.end(`hold ${process.pid}`));
const wss = new WebSocketServer({ server });
wss.on('connection', (socket) => socket.send(String(process.pid)));
server.listen(process.env.PORT);
