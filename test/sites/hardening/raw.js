// A worker that writes its responses byte for byte, to play a misbehaving application: the
// last path segment names a canned response (see RESPONSES); each is written on the
// connection as it stands, and `close` ones end the connection after it.
'use strict';
const net = require('net');

const RESPONSES = {
  // Two equal Content-Length lines (RFC 9110 §8.6: a recipient may take one; a sender must send one).
  twolengths: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello',
  // Content-Length with a non-chunked Transfer-Encoding: the coding wins and the body runs to the close.
  lengthgzip: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\nhello',
  // A body delimited by the close, with a non-chunked Transfer-Encoding.
  closegzip: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\nhello',
  // A body delimited by the close, with no framing header at all (HTTP/1.0 style).
  closebare: 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nhello',
  // A control character in the reason phrase (RFC 9112 §4 allows tabs, spaces and visible characters), on a body big enough to compress.
  badreason: `HTTP/1.1 200 O\x01K\r\nContent-Type: text/html\r\nContent-Length: 2000\r\n\r\n${'x'.repeat(2000)}`,
  // Not HTTP at all.
  garbage: 'this is not an HTTP response\r\n\r\n',
  // A keep-alive answer after which the worker closes the connection at once.
  keepclose: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\nConnection: keep-alive\r\n\r\nhello',
};
const CLOSES = new Set(['lengthgzip', 'closegzip', 'closebare', 'garbage', 'keepclose']);

net
  .createServer((socket) => {
    let buffer = '';
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      for (;;) {
        const end = buffer.indexOf('\r\n\r\n');
        if (end === -1) return;
        const head = buffer.slice(0, end);
        buffer = buffer.slice(end + 4);
        const target = head.split(' ')[1] || '/';
        const name = target.split('?')[0].split('/').pop();
        const response = RESPONSES[name] || 'HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nraw';
        if (CLOSES.has(name)) socket.end(response);
        else socket.write(response);
      }
    });
    socket.on('error', () => {});
  })
  .listen(process.env.PORT);
