// A real remote client (a network namespace over a veth pair, as in logs-http.test.ts): the log
// folder is given to a remote user only when the site authenticated them and the authorization
// rules allow them; ipSecurity judges the real remote address.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { hashPassword } from '../src/modules/authentication/password-hash.js';
import { SITES, startNodehost, type RunningHost } from './helpers/nodehost.js';
import { inRemoteNamespace } from './helpers/remote-client.js';
import { fetchStrict } from './helpers/strict-http.js';

let temp: string;
let host: RunningHost;

function basic(user: string, password: string): string {
  return 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
}

before(async () => {
  temp = fs.mkdtempSync(path.join(os.tmpdir(), 'nh-auth-remote-'));
  fs.cpSync(SITES + 'auth', path.join(temp, 'site'), { recursive: true });
  fs.writeFileSync(path.join(temp, 'users'), `alice:${await hashPassword('alice-secret')}\nbob:${await hashPassword('bob-secret')}\n`);
  fs.writeFileSync(path.join(temp, 'nodehost.yml'), 'root: site\nusers: users\n');
  // Bound to every address so that the client in the network namespace reaches it through the veth pair.
  host = await startNodehost('', { args: ['--config', path.join(temp, 'nodehost.yml'), '--host', '0.0.0.0'] });
});

after(async () => {
  await host?.stop();
  fs.rmSync(temp, { recursive: true, force: true });
});

const CLIENT = `
const http = require('http');
const [address, port, list] = process.argv.slice(2);
const get = ([target, authorization]) => new Promise((ok) => {
  http.get({ host: address, port, path: target, agent: false, headers: authorization ? { Authorization: authorization } : {} }, (r) => {
    r.resume();
    r.on('end', () => ok(r.statusCode));
  }).on('error', (e) => ok('ERR ' + e.message));
});
(async () => { const out = []; for (const item of JSON.parse(list)) out.push(await get(item)); console.log(JSON.stringify(out)); })();
`;

test('remote: the log folder for authenticated and allowed users only; ipSecurity sees the remote address', async () => {
  // The application writes its log folder on its first output; the folder answers before that too.
  assert.equal((await fetchStrict(host.url, '/app/server.js/echo')).status, 200);
  const script = path.join(temp, 'client.cjs');
  fs.writeFileSync(script, CLIENT);
  await inRemoteNamespace('auth', async ({ hostIp, node }) => {
    const alice = basic('alice', 'alice-secret');
    const requests: [string, string | null][] = [
      ['/app/server.js/echo', null],
      ['/app/iisnode/', null],
      ['/app/iisnode/', alice],
      ['/app/iisnode/index.html', alice],
      ['/app/iisnode/', basic('bob', 'bob-secret')],
      ['/app/iisnode/', basic('alice', 'wrong')],
      ['/ip/', null],
      ['/ip/', alice],
    ];
    const stdout = await node([script, hostIp, String(host.port), JSON.stringify(requests)]);
    assert.deepEqual(JSON.parse(stdout), [200, 403, 200, 200, 403, 401, 403, 403], `remote replies: ${stdout}`);
  });
});
