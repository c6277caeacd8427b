/**
 * Privilege drop (nodehost.yml `user:` and `group:`, host-wide keys that the short form takes
 * too): a host started as root binds its port, then switches to the user before any worker
 * starts, so the host and its workers run as that user; without `user:`, a root host says so
 * once at start. The tests run as root.
 */
import assert from 'node:assert/strict';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fetchStrict } from './helpers/strict-http.js';
import { startNodehost, type RunningHost } from './helpers/nodehost.js';
import { waitForLog } from './helpers/recycle.js';

const DIR = mkdtempSync(join(tmpdir(), 'nodehost-privileges-'));
after(() => rmSync(DIR, { recursive: true, force: true }));

/** idsOf reads the uid and gid /etc/passwd and /etc/group give a name. */
function idOf(file: string, name: string): number {
  const line = readFileSync(file, 'utf8')
    .split('\n')
    .find((entry) => entry.startsWith(`${name}:`));
  assert.ok(line, `${name} in ${file}`);
  return Number(line.split(':')[2]);
}

/** realIds is the real uid and gid of a running process (/proc/<pid>/status). */
function realIds(pid: number): [number, number] {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+)`, 'm').exec(status)![1]);
  return [field('Uid'), field('Gid')];
}

describe('privileges', () => {
  const nobody = idOf('/etc/passwd', 'nobody');
  const nogroup = idOf('/etc/group', 'nogroup');
  let host: RunningHost;

  before(async () => {
    assert.equal(process.getuid!(), 0, 'these tests need root');
    chmodSync(DIR, 0o755);
    mkdirSync(join(DIR, 'site'));
    writeFileSync(
      join(DIR, 'site', 'web.config'),
      '<configuration><system.webServer><handlers><add name="iisnode" path="ids.js" verb="*" modules="iisnode" /></handlers></system.webServer></configuration>',
    );
    writeFileSync(
      join(DIR, 'site', 'ids.js'),
      "require('http').createServer((req, res) => res.end(JSON.stringify({ uid: process.getuid(), gid: process.getgid() }))).listen(process.env.PORT);\n",
    );
    // The access log is written after the switch, by the user.
    mkdirSync(join(DIR, 'logs'));
    chownSync(join(DIR, 'logs'), nobody, nogroup);
    writeFileSync(join(DIR, 'nodehost.yml'), 'root: site\nlogs: logs\nuser: nobody\ngroup: nogroup\n');
    host = await startNodehost('', { args: ['--config', join(DIR, 'nodehost.yml')] });
  });
  after(() => host?.stop());

  test('the host binds as root, then runs as the user; its workers too', async () => {
    const reply = await fetchStrict(host.url, '/ids.js');
    assert.equal(reply.status, 200);
    assert.deepEqual(JSON.parse(reply.text), { uid: nobody, gid: nogroup });
    assert.deepEqual(realIds(host.child.pid!), [nobody, nogroup]);
    assert.doesNotMatch(host.stderr(), /running as root/);
  });

  test('without user:, a root host warns once at start', async () => {
    const plain = await startNodehost(join(DIR, 'site'), { args: ['--no-metrics'] });
    try {
      await waitForLog(plain.child.stderr!, plain.stderr, /running as root/);
      assert.equal((await fetchStrict(plain.url, '/ids.js')).status, 200);
      assert.equal(plain.stderr().split('running as root').length - 1, 1);
      assert.deepEqual(realIds(plain.child.pid!), [0, 0]);
    } finally {
      await plain.stop();
    }
  });

  test('a user that does not exist stops the start with NH_ERR_SERVER_PRIVILEGES', async () => {
    writeFileSync(join(DIR, 'bad.yml'), 'root: site\nlogs: ""\nuser: no-such-user-here\ngroup: nogroup\n');
    await assert.rejects(startNodehost('', { args: ['--config', join(DIR, 'bad.yml')] }), /NH_ERR_SERVER_PRIVILEGES/);
  });
});
