import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { connect } from 'node:tls';
import { alpnOfClientHello } from './client-hello.js';

/** helloOf is the first bytes node's TLS client sends with these ALPN protocols. */
async function helloOf(ALPNProtocols: string[] | undefined): Promise<Buffer> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const received = once(server, 'connection').then(async ([socket]) => {
    const [bytes] = await once(socket, 'data');
    socket.destroy();
    return bytes as Buffer;
  });
  const client = connect({
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    servername: 'shop.test',
    ...(ALPNProtocols ? { ALPNProtocols } : {}),
  });
  client.on('error', () => undefined);
  const bytes = await received;
  client.destroy();
  server.close();
  return bytes;
}

test('reads the ALPN names of a real ClientHello', async () => {
  assert.deepEqual(alpnOfClientHello(await helloOf(['acme-tls/1'])), ['acme-tls/1']);
  assert.deepEqual(alpnOfClientHello(await helloOf(['h2', 'http/1.1'])), ['h2', 'http/1.1']);
  assert.deepEqual(alpnOfClientHello(await helloOf(undefined)), []);
});

test('asks for more until the first record is whole; other bytes offer nothing', async () => {
  const hello = await helloOf(['acme-tls/1']);
  assert.equal(alpnOfClientHello(hello.subarray(0, 3)), 'more');
  assert.equal(alpnOfClientHello(hello.subarray(0, hello.length - 1)), 'more');
  assert.deepEqual(alpnOfClientHello(Buffer.from('GET / HTTP/1.1\r\n\r\n')), []);
  // A record that claims to be a handshake but holds garbage past its header.
  assert.deepEqual(alpnOfClientHello(Buffer.from([22, 3, 1, 0, 6, 1, 0, 0, 2, 0xff, 0xff])), []);
});
