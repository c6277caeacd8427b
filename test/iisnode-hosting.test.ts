// Hosting node applications: handler mapping, workers, round robin, limits, environment.
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { SITES, startNodehost, type RunningHost } from './helpers/nodehost.js';
import { fetchStrict } from './helpers/strict-http.js';

let host: RunningHost;
before(async () => {
  host = await startNodehost(SITES + 'main');
});
after(async () => {
  assert.equal(await host.stop(), 0);
});

describe('handler mapping', () => {
  test('hello world: the mapped script is a node application', async () => {
    const reply = await fetchStrict(host.url, '/hello.js');
    assert.equal(reply.status, 200);
    assert.equal(reply.text, 'Hello, world! [main]');
  });

  test('URLs below the script belong to it (path info)', async () => {
    const reply = await fetchStrict(host.url, '/hello.js/request?a=1');
    assert.equal(reply.status, 200);
    assert.equal(JSON.parse(reply.text).url, '/hello.js/request?a=1');
  });

  test('a wildcard mapping makes each matching file its own application', async () => {
    assert.equal((await fetchStrict(host.url, '/wild/one.js')).text, 'Hello, world! [one]');
    assert.equal((await fetchStrict(host.url, '/wild/two.js')).text, 'Hello, world! [two]');
    const one = (await fetchStrict(host.url, '/wild/one.js/count')).text.split(' ')[0];
    const two = (await fetchStrict(host.url, '/wild/two.js/count')).text.split(' ')[0];
    assert.notEqual(one, two, 'separate processes');
  });

  test('<location path> adds a handler for its folder, with its verbs', async () => {
    assert.equal((await fetchStrict(host.url, '/loc/app.js')).text, 'Hello, world! [location]');
    // POST is not in the handler's verb list, so the static handler answers and refuses it.
    assert.equal((await fetchStrict(host.url, '/loc/app.js', { method: 'POST', body: 'x' })).status, 405);
  });

  test('ES module entry scripts run: .mjs and "type": "module"', async () => {
    assert.match((await fetchStrict(host.url, '/esm/server.mjs')).text, /^Hello from an ES module \[esm\/server\.mjs\]$/);
    assert.equal((await fetchStrict(host.url, '/esm-pkg/server.js')).text, 'Hello from server.js as module');
  });

  test('an express app that calls app.listen(process.env.PORT)', async () => {
    assert.equal((await fetchStrict(host.url, '/express/server.js')).text, 'Hello from express');
    const reply = await fetchStrict(host.url, '/express/server.js/users/42?x=1');
    assert.deepEqual(JSON.parse(reply.text), { id: '42', query: { x: '1' } });
  });
});

describe('workers', () => {
  test('state is kept across requests in one process', async () => {
    const a = (await fetchStrict(host.url, '/crash/server.js/count')).text.split(' ');
    const b = (await fetchStrict(host.url, '/crash/server.js/count')).text.split(' ');
    assert.equal(a[0], b[0]);
    assert.equal(Number(b[1]), Number(a[1]) + 1);
  });

  for (const [folder, n] of [
    ['two', 2],
    ['four', 4],
  ] as const) {
    test(`round robin over ${n} processes`, async () => {
      // Dispatch goes to ready processes: first wait until all n have answered (bounded), then watch the rotation.
      const warm = new Set<string>();
      for (let i = 0; i < 500 && warm.size < n; i++) warm.add((await fetchStrict(host.url, `/${folder}/server.js/count`)).text.split(' ')[0]!);
      assert.equal(warm.size, n, `${n} processes became ready`);
      const seen: string[] = [];
      for (let i = 0; i < n * 3; i++) seen.push((await fetchStrict(host.url, `/${folder}/server.js/count`)).text.split(' ')[0]!);
      const pids = new Set(seen);
      assert.equal(pids.size, n, `${n} distinct processes served: ${seen.join(',')}`);
      for (const pid of pids) assert.equal(seen.filter((p) => p === pid).length, 3, 'each process got its turn equally');
      for (let i = n; i < seen.length; i++) assert.equal(seen[i], seen[i - n], 'strict rotation');
    });
  }

  test('503 when every process is at maxConcurrentRequestsPerProcess, and service resumes after', async () => {
    // The held request stays active until its body ends.
    const held = request({
      host: '127.0.0.1',
      port: host.port,
      method: 'POST',
      path: '/full/server.js/hold',
      headers: { 'Transfer-Encoding': 'chunked' },
      agent: false,
    });
    held.write('start');
    const [res] = (await once(held, 'response')) as [import('node:http').IncomingMessage];
    assert.equal(res.statusCode, 200);
    const full = await fetchStrict(host.url, '/full/server.js');
    assert.equal(full.status, 503);
    held.end();
    let body = '';
    for await (const chunk of res) body += chunk;
    assert.match(body, /released$/);
    assert.equal((await fetchStrict(host.url, '/full/server.js')).status, 200);
  });

  test('environment: appSettings (empty value kept, empty key skipped), NODE_ENV, PORT socket, IISNODE_VERSION, cwd', async () => {
    const info = JSON.parse((await fetchStrict(host.url, '/env/server.js/env')).text);
    assert.equal(info.env.APP_GREETING, 'hello from appSettings');
    assert.equal(info.env.EMPTY_VALUE, '');
    assert.equal(info.env.NODE_ENV, 'production');
    assert.ok(info.env.IISNODE_VERSION, 'IISNODE_VERSION is set');
    assert.match(info.env.PORT, /^\/.*\.sock$/, 'PORT is a Unix socket path');
    assert.ok(Buffer.byteLength(info.env.PORT) < 108, 'socket path fits sun_path');
    assert.equal(info.cwd, SITES + 'main/env');
  });

  test('iisnode.yml overrides web.config', async () => {
    const info = JSON.parse((await fetchStrict(host.url, '/yml/server.js/env')).text);
    assert.equal(info.env.NODE_ENV, 'staging');
  });

  test('requests arriving while the workers start wait for them', async () => {
    // Nothing else in this suite touches /cold/: its workers start on this burst, and every request is served.
    const replies = await Promise.all([1, 2, 3, 4, 5, 6].map(() => fetchStrict(host.url, '/cold/server.js/count')));
    for (const reply of replies) assert.equal(reply.status, 200);
  });
});
