// A real remote client (a network namespace over a veth pair, as in logs-http.test.ts): the log
// folder, the debugger, detailed error pages and the iisnode developer page are given to a
// remote user only when the site authenticated them and the authorization rules allow them;
// ipSecurity judges the real remote address, allows it by an entry of its own and denies with
// 403.503.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { hashPassword } from '../src/modules/authentication/password-hash.js';
import { accessLogLine } from './helpers/access-log.js';
import { SITES, startNodehost, type RunningHost } from './helpers/nodehost.js';
import { inRemoteNamespace, remoteAddresses } from './helpers/remote-client.js';
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
  // Only the namespace's client may see /ipallow/: an entry for its address, nothing unlisted.
  fs.writeFileSync(
    path.join(temp, 'site', 'ipallow', 'web.config'),
    `<configuration><system.webServer><security><ipSecurity allowUnlisted="false"><add ipAddress="${remoteAddresses('auth').clientIp}" allowed="true" /></ipSecurity></security></system.webServer></configuration>\n`,
  );
  // Bound to every address so that the client in the network namespace reaches it through the veth pair.
  host = await startNodehost('', { args: ['--config', path.join(temp, 'nodehost.yml'), '--host', '0.0.0.0'] });
});

after(async () => {
  await host?.stop();
  fs.rmSync(temp, { recursive: true, force: true });
});

// Fetches each [target, Authorization or null] in turn over fresh connections; prints [status, body] pairs.
const CLIENT = `
const http = require('http');
const [address, port, list] = process.argv.slice(2);
const get = ([target, authorization]) => new Promise((ok) => {
  http.get({ host: address, port, path: target, agent: false, headers: authorization ? { Authorization: authorization } : {} }, (r) => {
    let body = '';
    r.setEncoding('utf8').on('data', (chunk) => (body += chunk));
    r.on('end', () => ok([r.statusCode, body]));
  }).on('error', (e) => ok([0, 'ERR ' + e.message]));
});
(async () => { const out = []; for (const item of JSON.parse(list)) out.push(await get(item)); console.log(JSON.stringify(out)); })();
`;

/** fromRemote makes the requests from the namespace's client and returns [status, body] for each. */
async function fromRemote(requests: [string, string | null][]): Promise<[number, string][]> {
  const script = path.join(temp, 'client.cjs');
  fs.writeFileSync(script, CLIENT);
  return inRemoteNamespace('auth', async ({ hostIp, node }) => JSON.parse(await node([script, hostIp, String(host.port), JSON.stringify(requests)])));
}

const ALICE = basic('alice', 'alice-secret');
const BOB = basic('bob', 'bob-secret');

test('remote: the log folder for authenticated and allowed users only; ipSecurity sees the remote address', async () => {
  // The application writes its log folder on its first output; the folder answers before that too.
  assert.equal((await fetchStrict(host.url, '/app/server.js/echo')).status, 200);
  const replies = await fromRemote([
    ['/app/server.js/echo', null],
    ['/app/iisnode/', null],
    ['/app/iisnode/', ALICE],
    ['/app/iisnode/index.html', ALICE],
    ['/app/iisnode/', BOB],
    ['/app/iisnode/', basic('alice', 'wrong')],
    ['/ip/', null],
    ['/ip/', ALICE],
  ]);
  assert.deepEqual(
    replies.map(([status]) => status),
    [200, 403, 200, 200, 403, 401, 403, 403],
    `remote replies: ${JSON.stringify(replies)}`,
  );
});

test('remote: detailed error pages and the iisnode developer page for authenticated and allowed users only', async () => {
  const [anonymous404, alice404, bobDenied, aliceStaff404, anonymous500, alice500, anonymousCustom, aliceCustom] = await fromRemote([
    ['/errors/missing.txt', null],
    ['/errors/missing.txt', ALICE],
    ['/errors/staff/missing.txt', BOB],
    ['/errors/staff/missing.txt', ALICE],
    ['/errors/server.js', null],
    ['/errors/server.js', ALICE],
    ['/errors/custom/server.js', null],
    ['/errors/custom/server.js', ALICE],
  ]);
  // errorMode DetailedLocalOnly: an anonymous remote client gets the custom page, an authenticated one the detailed page.
  assert.deepEqual(anonymous404, [404, '<!DOCTYPE html><html><body><h1>errors: custom 404</h1></body></html>\n']);
  assert.equal(alice404![0], 404);
  assert.match(alice404![1], /NH_ERR_STATIC_NOT_FOUND/);
  // A user the rules refuse is no better than an anonymous client: the custom page of the refusal.
  assert.equal(bobDenied![0], 403);
  assert.match(bobDenied![1], /errors: custom 403/);
  assert.doesNotMatch(bobDenied![1], /NH_ERR_/);
  assert.match(aliceStaff404![1], /NH_ERR_STATIC_NOT_FOUND/);
  // An application that cannot start: the custom 500 page for the anonymous client, iisnode's developer page (HTTP 200) for alice.
  assert.deepEqual(anonymous500, [500, '<!DOCTYPE html><html><body><h1>errors: custom 500</h1></body></html>\n']);
  assert.equal(alice500![0], 200);
  assert.match(alice500![1], /iisnode encountered an error when processing the request/);
  assert.match(alice500![1], /HTTP subStatus: 1002/);
  assert.match(alice500![1], /the errors app refuses to start/);
  // errorMode Custom: the developer page still wins over the custom page for alice, as it does for a local client.
  assert.deepEqual(anonymousCustom, [500, '<!DOCTYPE html><html><body><h1>errors/custom: custom 500</h1></body></html>\n']);
  assert.equal(aliceCustom![0], 200);
  assert.match(aliceCustom![1], /iisnode encountered an error when processing the request/);
});

test('remote: the debugger for authenticated and allowed users only', async () => {
  const [anonymousPage, anonymousKill, alicePage, aliceKill] = await fromRemote([
    ['/app/server.js/debug/', null],
    ['/app/server.js/debug/?kill', null],
    ['/app/server.js/debug/', ALICE],
    ['/app/server.js/debug/?kill', ALICE],
  ]);
  assert.equal(anonymousPage![0], 403);
  assert.doesNotMatch(anonymousPage![1], /devtools/);
  assert.equal(anonymousKill![0], 403);
  assert.equal(alicePage![0], 200);
  assert.match(alicePage![1], /devtools:\/\/devtools\/bundled\/js_app\.html\?ws=[^"&]+\/app\/server\.js\/debug\/ws/);
  assert.deepEqual(aliceKill, [200, 'The debugger and debugee processes have been killed.']);
});

test('remote: an ipSecurity entry for the client address allows it; a denial is 403.503 in the access log', async () => {
  const [allowed, denied] = await fromRemote([
    ['/ipallow/?probe=remote-allowed', null],
    ['/ip/?probe=remote-denied', null],
  ]);
  assert.deepEqual(allowed, [200, '<p>ipallow</p>\n']);
  assert.equal(denied![0], 403);
  // The loopback client is not listed there: refused.
  assert.equal((await fetchStrict(host.url, '/ipallow/')).status, 403);
  const logs = path.join(temp, 'logs', 'site');
  const line = await accessLogLine(logs, '/ip/', 'remote-denied');
  assert.equal(line['c-ip'], remoteAddresses('auth').clientIp);
  assert.equal(line['sc-status'], '403');
  assert.equal(line['sc-substatus'], '503');
  const allowedLine = await accessLogLine(logs, '/ipallow/', 'remote-allowed');
  assert.equal(allowedLine['sc-status'], '200');
});
