// A real remote client (a network namespace over a veth pair, as in logs-http.test.ts): the log
// folder is given to a remote user only when the site authenticated them and the authorization
// rules allow them; ipSecurity judges the real remote address.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import { hashPassword } from '../src/modules/authentication/password-hash.js';
import { SITES, startNodehost, type RunningHost } from './helpers/nodehost.js';
import { fetchStrict } from './helpers/strict-http.js';

const run = promisify(execFile);
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
  const id = process.pid % 100_000;
  const ns = `nh-auth-${process.pid}`;
  const vethHost = `nhah${id}`;
  const vethNs = `nhan${id}`;
  const net2 = 100 + ((process.pid + 37) % 100);
  const net3 = ((process.pid >> 7) + 11) % 250;
  const hostIp = `10.${net2}.${net3}.1`;
  const nsIp = `10.${net2}.${net3}.2`;
  const ip = (...args: string[]) => run('ip', args);
  try {
    await ip('netns', 'add', ns);
  } catch (err) {
    assert.fail(`ip netns is not available here (run as root with iproute2; .ci/run installs it): ${(err as Error).message}`);
  }
  const script = path.join(temp, 'client.cjs');
  fs.writeFileSync(script, CLIENT);
  try {
    await ip('link', 'add', vethHost, 'type', 'veth', 'peer', 'name', vethNs);
    await ip('link', 'set', vethNs, 'netns', ns);
    await ip('addr', 'add', `${hostIp}/30`, 'dev', vethHost);
    await ip('link', 'set', vethHost, 'up');
    await ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${nsIp}/30`, 'dev', vethNs);
    await ip('netns', 'exec', ns, 'ip', 'link', 'set', vethNs, 'up');
    await ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
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
    const { stdout } = await run('ip', ['netns', 'exec', ns, process.execPath, script, hostIp, String(host.port), JSON.stringify(requests)], {
      timeout: 30_000,
    });
    assert.deepEqual(JSON.parse(stdout), [200, 403, 200, 200, 403, 401, 403, 403], `remote replies: ${stdout}`);
  } finally {
    await ip('netns', 'del', ns).catch(() => undefined);
    await ip('link', 'del', vethHost).catch(() => undefined);
  }
});
