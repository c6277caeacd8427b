// The strict client against a server that writes exact bytes: it takes well-framed responses
// and refuses every double or missing framing a tolerant reader would let through.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { fetchStrict } from './strict-http.js';

/** Each target answers with these bytes, then the server closes the connection. */
const ANSWERS: Record<string, string> = {
  '/length': 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello',
  '/chunked': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n',
  '/both': 'HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nTransfer-Encoding: chunked\r\nContent-Length: 47\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  '/both-reversed': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n',
  '/two-lengths': 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello',
  '/close-delimited': 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nhello',
  '/no-content-with-length': 'HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n',
  '/no-content': 'HTTP/1.1 204 No Content\r\n\r\n',
  '/not-modified': 'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\nContent-Length: 5\r\n\r\n',
  '/interim': 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
  '/gzip-encoded': 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n',
};

let server: net.Server;
let base = '';

before(async () => {
  server = net.createServer((socket) => {
    let head = '';
    socket.on('data', (chunk) => {
      head += chunk.toString('latin1');
      if (!head.includes('\r\n\r\n')) return;
      const [method, target] = head.split(' ');
      let answer = ANSWERS[target!] ?? 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n';
      // A HEAD answer keeps its head only.
      if (method === 'HEAD') answer = answer.slice(0, answer.indexOf('\r\n\r\n') + 4);
      socket.end(answer);
    });
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
});

after(() => server.close());

describe('fetchStrict', () => {
  test('reads a Content-Length and a chunked body, with the raw header list', async () => {
    const length = await fetchStrict(base, '/length');
    assert.equal(length.status, 200);
    assert.equal(length.text, 'hello');
    assert.equal(length.framing, 'content-length');
    assert.deepEqual(length.rawHeaders, ['Content-Type', 'text/plain', 'Content-Length', '5']);
    const chunked = await fetchStrict(base, '/chunked');
    assert.equal(chunked.text, 'hello');
    assert.equal(chunked.framing, 'chunked');
  });

  test('Content-Length together with Transfer-Encoding is refused, in either order, naming the parser error', async () => {
    for (const target of ['/both', '/both-reversed']) {
      await assert.rejects(fetchStrict(base, target), (err: Error) => {
        assert.equal(err.name, 'AssertionError');
        assert.match(err.message, /refused the response's framing \(HPE_INVALID_(CONTENT_LENGTH|TRANSFER_ENCODING)/);
        assert.match(err.message, new RegExp(`GET ${target}:`));
        assert.match(err.message, /Transfer-Encoding: chunked/, 'the head as received is quoted');
        return true;
      });
    }
  });

  test('a repeated Content-Length is refused', async () => {
    await assert.rejects(fetchStrict(base, '/two-lengths'), /Content-Length/);
  });

  test('a body without framing is refused unless close-delimited bodies are allowed', async () => {
    await assert.rejects(fetchStrict(base, '/close-delimited'), /neither Content-Length nor Transfer-Encoding/);
    const reply = await fetchStrict(base, '/close-delimited', { allowCloseDelimited: true });
    assert.equal(reply.text, 'hello');
    assert.equal(reply.framing, 'none');
  });

  test('204 must not frame a body; 304 may carry the Content-Length of the representation', async () => {
    await assert.rejects(fetchStrict(base, '/no-content-with-length'), /frames a body it must not have/);
    assert.equal((await fetchStrict(base, '/no-content')).framing, 'none');
    const notModified = await fetchStrict(base, '/not-modified');
    assert.equal(notModified.status, 304);
    assert.equal(notModified.body.length, 0);
  });

  test('HEAD: the framing headers of GET without a body', async () => {
    const head = await fetchStrict(base, '/length', { method: 'HEAD' });
    assert.equal(head.headers['content-length'], '5');
    assert.equal(head.body.length, 0);
  });

  test('1xx interim responses are kept apart from the final one', async () => {
    const reply = await fetchStrict(base, '/interim');
    assert.equal(reply.text, 'ok');
    assert.equal(reply.interim.length, 1);
    assert.equal(reply.interim[0]!.status, 103);
  });

  test('a Transfer-Encoding other than chunked alone is refused', async () => {
    await assert.rejects(fetchStrict(base, '/gzip-encoded'), /not chunked|HPE_/);
  });
});
