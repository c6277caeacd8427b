// socket.io server: answers each 'msg' with its pid and the message; the path lives under the script.
'use strict';
const http = require('http');
const { Server } = require('socket.io');
const server = http.createServer((req, res) => res.end(`sio ${process.pid}`));
const io = new Server(server, { path: '/sticky/sio.js/socket.io' });
io.on('connection', (socket) => {
  socket.on('msg', (n) => socket.emit('reply', { n, pid: process.pid, transport: socket.conn.transport.name }));
});
server.listen(process.env.PORT);
