// A socket.io chat room shared by the app's two processes. Each process appends the messages
// it receives to one file beside its socket (the folder nodehost made for this app's workers)
// and sends every line that appears in it to its own clients, so both processes' clients see
// every message without a broker.
const fs = require('fs');
const http = require('http');
const path = require('path');
const { Server } = require('socket.io');

const room = path.join(path.dirname(process.env.PORT), 'chat-room.jsonl');
const server = http.createServer((req, res) => {
  res.statusCode = 404;
  res.end();
});
const io = new Server(server, { path: '/chat/chat.js/socket.io' });

io.on('connection', (socket) => {
  socket.emit('welcome', { pid: process.pid });
  socket.on('say', (text) => {
    const message = { from: String(socket.handshake.query.name || 'someone').slice(0, 40), text: String(text).slice(0, 500), pid: process.pid };
    fs.appendFileSync(room, `${JSON.stringify(message)}\n`);
  });
});

// Follow the room file: every complete line after what was read so far is a message to send.
fs.appendFileSync(room, '');
let offset = fs.statSync(room).size;
let pending = '';
fs.watch(room, () => {
  const size = fs.statSync(room).size;
  if (size <= offset) return;
  const fd = fs.openSync(room, 'r');
  const buffer = Buffer.alloc(size - offset);
  fs.readSync(fd, buffer, 0, buffer.length, offset);
  fs.closeSync(fd);
  offset = size;
  const lines = (pending + buffer.toString('utf8')).split('\n');
  pending = lines.pop();
  for (const line of lines) io.emit('message', JSON.parse(line));
});

server.listen(process.env.PORT);
