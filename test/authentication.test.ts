// Authentication, authorization and IP restrictions against the real binary (docs/security.md):
// Basic logins with scrypt and bcrypt lines, the challenge, the failed-login limit, AUTH_USER
// promoted to node, the Authorization header kept from node, URL Authorization by user, role
// and verb (deny before allow, inherited, <location>-scoped), ipSecurity and dynamicIpSecurity
// (other loopback addresses, 127.0.0.2 and up, stand for other clients), and `nodehost user add`.
// Each test that counts per address has addresses of its own.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import bcrypt from 'bcryptjs';
import { hashPassword } from '../src/modules/authentication/password-hash.js';
import { accessLogLine } from './helpers/access-log.js';
import { BIN, SITES, startNodehost, type RunningHost } from './helpers/nodehost.js';
import { fetchStrict, type StrictReply, type StrictRequestOptions } from './helpers/strict-http.js';

let temp: string;
let usersFile: string;
let host: RunningHost;

function basic(user: string, password: string): string {
  return 'Basic ' + Buffer.from(`${user}:${password}`).toString('base64');
}

const ALICE = basic('alice', 'alice-secret');
const BOB = basic('bob', 'bob-secret');

before(async () => {
  temp = fs.mkdtempSync(path.join(os.tmpdir(), 'nh-auth-'));
  const site = path.join(temp, 'site');
  fs.cpSync(SITES + 'auth', site, { recursive: true });
  usersFile = path.join(temp, 'users');
  // alice: an scrypt line; bob: a bcrypt line as `htpasswd -B` writes it ($2y$), with a role.
  const bobHash = '$2y$' + bcrypt.hashSync('bob-secret', 8).slice(4);
  fs.writeFileSync(usersFile, `# test users\nalice:${await hashPassword('alice-secret')}\nbob:${bobHash}:admins,staff\n`);
  const yml = path.join(temp, 'nodehost.yml');
  fs.writeFileSync(yml, 'root: site\nusers: users\n');
  host = await startNodehost('', { args: ['--config', yml] });
});

after(async () => {
  await host?.stop();
  fs.rmSync(temp, { recursive: true, force: true });
});

function get(target: string, options: StrictRequestOptions = {}): Promise<StrictReply> {
  return fetchStrict(host.url, target, options);
}

function as(authorization: string, options: StrictRequestOptions = {}): StrictRequestOptions {
  return { ...options, headers: { ...options.headers, Authorization: authorization } };
}

describe('Basic authentication', () => {
  test('anonymous requests are served where anonymous access is on', async () => {
    assert.equal((await get('/')).status, 200);
  });

  test('without credentials a folder with anonymous off answers 401 with the challenge', async () => {
    const reply = await get('/private/');
    assert.equal(reply.status, 401);
    assert.equal(reply.headers['www-authenticate'], 'Basic realm="nodehost tests", charset="UTF-8"');
  });

  test('an scrypt line and a bcrypt ($2y$) line both log in', async () => {
    assert.equal((await get('/private/', as(ALICE))).status, 200);
    assert.equal((await get('/private/', as(BOB))).status, 200);
    assert.match((await get('/private/', as(BOB))).text, /private/);
  });

  test('a wrong password or an unknown user is 401 with the challenge, even where anonymous is on', async () => {
    for (const authorization of [basic('alice', 'wrong'), basic('nobody', 'x'), basic('bob', 'alice-secret')]) {
      for (const target of ['/private/', '/']) {
        const reply = await get(target, as(authorization, { localAddress: '127.0.0.5' }));
        assert.equal(reply.status, 401, `${target} ${authorization}`);
        assert.match(reply.headers['www-authenticate'] ?? '', /^Basic realm="nodehost tests"/);
      }
    }
  });

  test('after 10 failed logins in a minute the address gets 429, good password included; other addresses are not affected', async () => {
    const client = { localAddress: '127.0.0.3' };
    for (let i = 1; i <= 10; i++) assert.equal((await get('/private/', as(basic('alice', `wrong-${i}`), client))).status, 401, `failure ${i}`);
    const locked = await get('/private/', as(ALICE, client));
    assert.equal(locked.status, 429);
    assert.ok(Number(locked.headers['retry-after']) > 0, 'Retry-After');
    assert.equal((await get('/private/', as(ALICE, { localAddress: '127.0.0.4' }))).status, 200);
    // Anonymous requests of the locked address are not logins: still served.
    assert.equal((await get('/', client)).status, 200);
  });

  test('maxFailedLogins="2" locks after two failures, for failedLoginLockoutSeconds="3600"', async () => {
    const client = { localAddress: '127.0.0.11' };
    for (let i = 1; i <= 2; i++) assert.equal((await get('/logins/few/', as(basic('alice', `wrong-${i}`), client))).status, 401, `failure ${i}`);
    const locked = await get('/logins/few/', as(ALICE, client));
    assert.equal(locked.status, 429);
    // The default lockout is 60 s: a Retry-After above it is the setting's.
    const retryAfter = Number(locked.headers['retry-after']);
    assert.ok(retryAfter > 60 && retryAfter <= 3600, `Retry-After ${retryAfter}`);
  });

  test('maxFailedLogins="0" turns the limit off', async () => {
    const client = { localAddress: '127.0.0.12' };
    for (let i = 1; i <= 12; i++) assert.equal((await get('/logins/off/', as(basic('alice', `wrong-${i}`), client))).status, 401, `failure ${i}`);
    assert.equal((await get('/logins/off/', as(ALICE, client))).status, 200);
  });

  test('failedLoginWindowSeconds="1": a failure older than the window no longer counts; failedLoginLockoutSeconds="1" ends', async () => {
    const early = { localAddress: '127.0.0.13' };
    const clock = { localAddress: '127.0.0.14' };
    assert.equal((await get('/logins/short/', as(basic('alice', 'wrong-1'), early))).status, 401);
    // Another address, locked after that failure, is the clock: when its 1 s lockout is over, so is the first address's window.
    for (let i = 1; i <= 2; i++) assert.equal((await get('/logins/short/', as(basic('alice', `wrong-${i}`), clock))).status, 401);
    const locked = await get('/logins/short/', as(ALICE, clock));
    assert.equal(locked.status, 429);
    assert.equal(locked.headers['retry-after'], '1');
    let unlocked = locked;
    for (let i = 0; i < 100 && unlocked.status === 429; i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      unlocked = await get('/logins/short/', as(ALICE, clock));
    }
    assert.equal(unlocked.status, 200, 'the lockout ended');
    // A second failure, now in a window of its own, does not lock (with the default 60 s window it would: two failures).
    assert.equal((await get('/logins/short/', as(basic('alice', 'wrong-2'), early))).status, 401);
    assert.equal((await get('/logins/short/', as(ALICE, early))).status, 200);
  });

  test('AUTH_USER, AUTH_TYPE and LOGON_USER are promoted to node; the Authorization header is not forwarded', async () => {
    const reply = await get('/app/server.js/echo', as(ALICE));
    assert.equal(reply.status, 200);
    const seen = JSON.parse(reply.text) as { headers: Record<string, string> };
    assert.equal(seen.headers['x-iisnode-auth_user'], 'alice');
    assert.equal(seen.headers['x-iisnode-auth_type'], 'Basic');
    assert.equal(seen.headers['x-iisnode-logon_user'], 'alice');
    assert.equal(seen.headers.authorization, undefined);
    const anonymous = JSON.parse((await get('/app/server.js/echo')).text) as { headers: Record<string, string> };
    assert.equal(anonymous.headers['x-iisnode-auth_user'], '');
  });

  test('forwardAuthorizationHeader="true" gives node the header; other schemes always reach node', async () => {
    const forwarded = JSON.parse((await get('/forwarded/server.js/echo', as(ALICE))).text) as { headers: Record<string, string> };
    assert.equal(forwarded.headers.authorization, ALICE);
    assert.equal(forwarded.headers['x-iisnode-auth_user'], 'alice');
    const bearer = JSON.parse((await get('/app/server.js/echo', as('Bearer abc'))).text) as { headers: Record<string, string> };
    assert.equal(bearer.headers.authorization, 'Bearer abc');
  });
});

describe('authorization', () => {
  test('by user: alice only; anonymous 401 with the challenge, bob 403; inherited by subfolders', async () => {
    for (const target of ['/authz/byuser/', '/authz/byuser/sub/page.html']) {
      const anonymous = await get(target);
      assert.equal(anonymous.status, 401, target);
      assert.match(anonymous.headers['www-authenticate'] ?? '', /^Basic /);
      assert.equal((await get(target, as(ALICE))).status, 200, target);
      const bob = await get(target, as(BOB));
      assert.equal(bob.status, 403, target);
      assert.equal(bob.headers['www-authenticate'], undefined);
    }
  });

  test('by role: admins (bob) allowed, alice 403', async () => {
    assert.equal((await get('/authz/byrole/', as(BOB))).status, 200);
    assert.equal((await get('/authz/byrole/', as(ALICE))).status, 403);
    assert.equal((await get('/authz/byrole/')).status, 401);
  });

  test('by verb: POST and DELETE denied to everyone, GET allowed', async () => {
    assert.equal((await get('/authz/byverb/server.js/echo')).status, 200);
    assert.equal((await get('/authz/byverb/server.js/echo', as(ALICE))).status, 200);
    assert.equal((await get('/authz/byverb/server.js/echo', { method: 'POST' })).status, 401);
    assert.equal((await get('/authz/byverb/server.js/echo', as(ALICE, { method: 'POST' }))).status, 403);
    assert.equal((await get('/authz/byverb/server.js/echo', as(BOB, { method: 'DELETE' }))).status, 403);
  });

  test('deny rules are evaluated before allow rules', async () => {
    assert.equal((await get('/authz/order/', as(ALICE))).status, 403);
    assert.equal((await get('/authz/order/', as(BOB))).status, 200);
  });

  test('a <location> rule scopes to its file', async () => {
    assert.equal((await get('/authz/loc/secret.html')).status, 401);
    assert.equal((await get('/authz/loc/secret.html', as(ALICE))).status, 200);
    assert.equal((await get('/authz/loc/open.html')).status, 200);
  });
});

describe('ipSecurity and dynamicIpSecurity', () => {
  test('allowUnlisted="false" with 127.0.0.1 allowed: 127.0.0.1 served, 127.0.0.2 403', async () => {
    assert.equal((await get('/ip/')).status, 200);
    assert.equal((await get('/ip/', { localAddress: '127.0.0.2' })).status, 403);
    // Credentials do not get past an address restriction.
    assert.equal((await get('/ip/', as(ALICE, { localAddress: '127.0.0.2' }))).status, 403);
    assert.equal((await get('/', { localAddress: '127.0.0.2' })).status, 200);
  });

  test('subnet masks, first matching entry wins, unlisted allowed', async () => {
    assert.equal((await get('/ipcidr/', { localAddress: '127.0.0.2' })).status, 200, 'allowed by the entry before the subnet');
    assert.equal((await get('/ipcidr/')).status, 403, '127.0.0.1 in 127.0.0.0/255.255.255.252');
    assert.equal((await get('/ipcidr/', { localAddress: '127.0.0.3' })).status, 403);
    assert.equal((await get('/ipcidr/', { localAddress: '127.0.0.9' })).status, 200, 'unlisted');
  });

  test('denyByConcurrentRequests: a second concurrent request of one address is 403 until the first ends', async () => {
    const client = '127.0.0.6';
    // The held request: its head arrives while node keeps the body open.
    const held = await new Promise<{ status: number; rest: Promise<string> }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port: host.port, path: '/dyn/server.js/hold', localAddress: client, agent: false }, (res) => {
        res.setEncoding('utf8');
        let text = '';
        res.on('data', (chunk: string) => (text += chunk));
        resolve({ status: res.statusCode!, rest: new Promise((done) => res.on('end', () => done(text))) });
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(held.status, 200);
    assert.equal((await get('/dyn/server.js/echo', { localAddress: client })).status, 403);
    // Another address is not limited; it releases the held response.
    assert.equal((await get('/dyn/server.js/release', { localAddress: '127.0.0.7' })).text, '1');
    assert.equal(await held.rest, 'held released');
    assert.equal((await get('/dyn/server.js/echo', { localAddress: client })).status, 200);
  });
});

describe('dynamicIpSecurity denyByRequestRate', () => {
  test('maxRequests="3" an hour: the fourth request of an address is 403.502; another address is served', async () => {
    const client = { localAddress: '127.0.0.15' };
    for (let i = 1; i <= 3; i++) assert.equal((await get(`/dynrate/?probe=rate-${i}`, client)).status, 200, `request ${i}`);
    assert.equal((await get('/dynrate/?probe=rate-4', client)).status, 403);
    assert.equal((await get('/dynrate/?probe=rate-other', { localAddress: '127.0.0.16' })).status, 200);
    const denied = await accessLogLine(path.join(temp, 'logs', 'site'), '/dynrate/', 'rate-4');
    assert.equal(denied['c-ip'], '127.0.0.15');
    assert.equal(`${denied['sc-status']}.${denied['sc-substatus']}`, '403.502');
  });
});

describe('nodehost user add', () => {
  test('writes a line that then logs in, and replaces it on a second add', async () => {
    const add = (name: string, password: string, ...args: string[]) =>
      new Promise<{ code: number | null; out: string }>((resolve) => {
        const child = spawn(process.execPath, [BIN, 'user', 'add', usersFile, name, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
        let out = '';
        child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
        child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
        child.on('exit', (code) => resolve({ code, out }));
        child.stdin.end(`${password}\n`);
      });
    const first = await add('carol', 'carol-1', '--roles', 'admins');
    assert.equal(first.code, 0, first.out);
    const lines = fs.readFileSync(usersFile, 'utf8').split('\n');
    assert.match(lines.find((line) => line.startsWith('carol:')) ?? '', /^carol:\$scrypt\$N=16384,r=8,p=1\$[^$]+\$[^$]+:admins$/);
    assert.ok(
      lines.some((line) => line.startsWith('alice:')),
      'other lines kept',
    );
    assert.equal((await get('/authz/byrole/', as(basic('carol', 'carol-1')))).status, 200);
    const second = await add('carol', 'carol-2');
    assert.equal(second.code, 0, second.out);
    assert.equal(
      fs
        .readFileSync(usersFile, 'utf8')
        .split('\n')
        .filter((line) => line.startsWith('carol:')).length,
      1,
    );
    assert.equal((await get('/private/', as(basic('carol', 'carol-2'), { localAddress: '127.0.0.8' }))).status, 200);
    assert.equal((await get('/private/', as(basic('carol', 'carol-1'), { localAddress: '127.0.0.8' }))).status, 401);
    assert.equal((await get('/authz/byrole/', as(basic('carol', 'carol-2')))).status, 403, 'roles replaced too');
  });
});
