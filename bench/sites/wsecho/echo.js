// WebSocket echo for the benchmark; listens on PORT (a Unix socket under nodehost and nginx,
// a TCP port alone). Plain HTTP requests get `ok` (the harness's readiness probe).
// bench/scenarios.ts fills in {{wsPath}}: ws is resolved from the nodehost checkout.
'use strict';
const http = require('http');
const { WebSocketServer } = require({{wsPath}});
const server = http.createServer((req, res) => res.end('ok'));
new WebSocketServer({ server }).on('connection', (ws) => ws.on('message', (data) => ws.send(data)));
server.listen(process.env.PORT);
