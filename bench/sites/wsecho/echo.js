// WebSocket echo for the benchmark; listens on PORT (a Unix socket under nodehost, a TCP port alone).
'use strict';
const http = require('http');
const { WebSocketServer } = require('ws');
const server = http.createServer((req, res) => res.end('ok'));
new WebSocketServer({ server }).on('connection', (ws) => ws.on('message', (data) => ws.send(data)));
server.listen(process.env.PORT);
