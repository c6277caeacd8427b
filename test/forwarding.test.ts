// What node receives and what the client gets back: the proxy must be invisible.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { fetchRaw, SITES, startNodehost, type RunningHost } from './helpers/nodehost.js';

let host: RunningHost;
before(async () => {
  host = await startNodehost(SITES + 'main');
});
after(async () => {
  assert.equal(await host.stop(), 0);
});

function pairs(raw: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (let i = 0; i < raw.length; i += 2) out.push([raw[i]!.toLowerCase(), raw[i + 1]!]);
  return out;
}

describe('request fidelity', () => {
  test('the raw request target reaches node unchanged (no decoding)', async () => {
    const target = '/hello.js/request?q=a%2Fb&x=%20+y';
    const seen = JSON.parse((await fetchRaw(host.url, target)).text);
    assert.equal(seen.url, target);
    const encodedPath = '/hello.js/a%2Fb%3D/request';
    assert.equal(JSON.parse((await fetchRaw(host.url, encodedPath)).text).url, encodedPath);
  });

  test('a client-sent X-Original-URL does not choose the URL node sees', async () => {
    const seen = JSON.parse((await fetchRaw(host.url, '/hello.js/request?a=1', { headers: { 'X-Original-URL': '/admin/secret' } })).text);
    assert.equal(seen.url, '/hello.js/request?a=1');
  });

  test('repeated request headers stay separate and empty values are kept', async () => {
    const seen = JSON.parse((await fetchRaw(host.url, '/hello.js/request', { headers: { 'X-Multi': ['one', 'two'], 'X-Empty': '' } })).text);
    const headers = pairs(seen.rawHeaders);
    assert.deepEqual(
      headers.filter(([k]) => k === 'x-multi').map(([, v]) => v),
      ['one', 'two'],
    );
    assert.deepEqual(
      headers.filter(([k]) => k === 'x-empty'),
      [['x-empty', '']],
    );
  });

  test('POST bodies are echoed', async () => {
    const reply = await fetchRaw(host.url, '/hello.js/echo', { method: 'POST', body: 'hello body', headers: { 'Content-Type': 'text/plain' } });
    assert.equal(reply.status, 200);
    assert.equal(reply.text, 'hello body');
    assert.equal(reply.headers['x-request-cl'], '10');
  });

  test('chunked request bodies reach node chunked', async () => {
    const reply = await fetchRaw(host.url, '/hello.js/echo', { method: 'POST', chunks: ['a', 'bc', 'def'], headers: { 'Transfer-Encoding': 'chunked' } });
    assert.equal(reply.text, 'abcdef');
    assert.equal(reply.headers['x-request-te'], 'chunked');
  });

  test('a 32 MB chunked upload streams through', async () => {
    const block = Buffer.alloc(1024 * 1024, 'upload-block-');
    const hash = createHash('sha256');
    const reply = await new Promise<{ bytes: number; sha256: string; te: string }>((resolve, reject) => {
      const req = request({
        host: '127.0.0.1',
        port: host.port,
        method: 'POST',
        path: '/hello.js/upload',
        headers: { 'Transfer-Encoding': 'chunked' },
        agent: false,
      });
      req.on('error', reject);
      req.on('response', (res) => {
        let body = '';
        res
          .setEncoding('utf8')
          .on('data', (c) => (body += c))
          .on('end', () => resolve(JSON.parse(body)));
      });
      let sent = 0;
      const pump = () => {
        while (sent < 32) {
          sent++;
          hash.update(block);
          if (!req.write(block)) return void req.once('drain', pump);
        }
        req.end();
      };
      pump();
    });
    assert.equal(reply.bytes, 32 * 1024 * 1024);
    assert.equal(reply.sha256, hash.digest('hex'));
    assert.equal(reply.te, 'chunked');
  });
});

describe('response fidelity', () => {
  test('repeated response headers stay separate; empty values are kept', async () => {
    const reply = await fetchRaw(host.url, '/hello.js/headers');
    const headers = pairs(reply.rawHeaders);
    assert.deepEqual(
      headers.filter(([k]) => k === 'foo').map(([, v]) => v),
      ['Val1', 'Val2'],
    );
    assert.deepEqual(
      headers.filter(([k]) => k === 'set-cookie').map(([, v]) => v),
      ['a=1', 'b=2'],
    );
    assert.deepEqual(
      headers.filter(([k]) => k === 'x-empty'),
      [['x-empty', '']],
    );
  });

  test('chunked responses stream as chunked', async () => {
    const reply = await fetchRaw(host.url, '/hello.js/chunked');
    assert.equal(reply.text, 'one,two,three');
    assert.equal(reply.headers['transfer-encoding'], 'chunked');
  });

  test('a 30 MB download streams through intact', async () => {
    for (const target of ['/hello.js/big?mb=30', '/hello.js/big?mb=30&length']) {
      const reply = await fetchRaw(host.url, target);
      assert.equal(reply.status, 200);
      assert.equal(reply.body.length, 30 * 1024 * 1024);
      const expected = createHash('sha256');
      const block = Buffer.alloc(1024 * 1024, 'abcdefghijklmnopqrstuvwxyz0123456789');
      for (let i = 0; i < 30; i++) expected.update(block);
      assert.equal(createHash('sha256').update(reply.body).digest('hex'), expected.digest('hex'));
    }
  });

  test('HEAD and 204 responses have no body', async () => {
    const head = await fetchRaw(host.url, '/hello.js', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    const none = await fetchRaw(host.url, '/hello.js/nocontent');
    assert.equal(none.status, 204);
    assert.equal(none.headers['x-kind'], 'no-content');
    assert.equal(none.body.length, 0);
  });

  test('node statuses pass through', async () => {
    const reply = await fetchRaw(host.url, '/hello.js/status?code=418');
    assert.equal(reply.status, 418);
    assert.equal(reply.text, 'status 418');
  });
});

describe('enableXFF and promoteServerVars', () => {
  test('X-Forwarded-For is added, X-Forwarded-Proto set', async () => {
    const seen = pairs(JSON.parse((await fetchRaw(host.url, '/xff/server.js/request')).text).rawHeaders);
    assert.deepEqual(
      seen.filter(([k]) => k === 'x-forwarded-for').map(([, v]) => v),
      ['127.0.0.1'],
    );
    assert.deepEqual(
      seen.filter(([k]) => k === 'x-forwarded-proto').map(([, v]) => v),
      ['http'],
    );
  });

  test('an existing X-Forwarded-For is appended to, X-Forwarded-Proto from the client is kept', async () => {
    const seen = pairs(
      JSON.parse((await fetchRaw(host.url, '/xff/server.js/request', { headers: { 'X-Forwarded-For': '10.0.0.1', 'X-Forwarded-Proto': 'https' } })).text)
        .rawHeaders,
    );
    assert.deepEqual(
      seen.filter(([k]) => k === 'x-forwarded-for').map(([, v]) => v),
      ['10.0.0.1, 127.0.0.1'],
    );
    assert.deepEqual(
      seen.filter(([k]) => k === 'x-forwarded-proto').map(([, v]) => v),
      ['https'],
    );
  });

  test('the client address is not added twice', async () => {
    const seen = pairs(
      JSON.parse((await fetchRaw(host.url, '/xff/server.js/request', { headers: { 'X-Forwarded-For': '10.0.0.1, 127.0.0.1' } })).text).rawHeaders,
    );
    assert.deepEqual(
      seen.filter(([k]) => k === 'x-forwarded-for').map(([, v]) => v),
      ['10.0.0.1, 127.0.0.1'],
    );
  });

  test('promoteServerVars adds X-iisnode-<NAME> headers for existing variables', async () => {
    const reply = await fetchRaw(host.url, '/xff/server.js/request?a=b', { headers: { Host: 'example.test:8123' } });
    const seen = Object.fromEntries(pairs(JSON.parse(reply.text).rawHeaders));
    assert.equal(seen['x-iisnode-request_method'], 'GET');
    assert.equal(seen['x-iisnode-url'], '/xff/server.js/request');
    assert.equal(seen['x-iisnode-query_string'], 'a=b');
    assert.equal(seen['x-iisnode-remote_addr'], '127.0.0.1');
    assert.match(seen['x-iisnode-remote_port']!, /^\d+$/);
    assert.equal(seen['x-iisnode-https'], 'off');
    assert.equal(seen['x-iisnode-server_name'], 'example.test');
    assert.equal(seen['x-iisnode-server_port'], String(host.port));
    assert.equal(seen['x-iisnode-http_host'], 'example.test:8123');
    assert.equal(seen['x-iisnode-auth_user'], '');
    assert.equal(seen['x-iisnode-auth_type'], '');
    assert.equal(seen['x-iisnode-unencoded_url'], '/xff/server.js/request?a=b');
    assert.equal(seen['x-iisnode-no_such_var'], undefined);
  });

  test('debugHeaderEnabled adds the iisnode-debug header', async () => {
    const reply = await fetchRaw(host.url, '/xff/server.js');
    assert.match(String(reply.headers['iisnode-debug']), /^http:\/\/bit\.ly\/NsU2nd#iisnode_ver=.*&node_pid=\d+/);
    assert.equal((await fetchRaw(host.url, '/hello.js')).headers['iisnode-debug'], undefined, 'absent by default');
  });
});
