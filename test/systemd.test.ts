// systemd: the unit `nodehost service install` writes, and the sd_notify messages the host
// sends to NOTIFY_SOCKET (READY=1; RELOADING=1 + MONOTONIC_USEC, then READY=1, around every
// reload: SIGHUP, a change to nodehost.yml, the admin API; STOPPING=1), with one host process
// and with front doors, read by a fake systemd: a python3 Unix datagram receiver.
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { controlPaths } from '../src/control/paths.js';
import { BIN, fetchRaw, freePort, SITES, startNodehost } from './helpers/nodehost.js';
import { waitForLog } from './helpers/recycle.js';

const run = promisify(execFile);

const RECEIVER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("bound", flush=True)
while True:
    print(s.recv(65536).decode().replace("\\n", "|"), flush=True)
`;

/** FakeSystemd collects the datagrams sent to its socket, one string per message (`A=1|B=2`). */
class FakeSystemd {
  readonly socket: string;
  readonly messages: string[] = [];
  readonly #child: ChildProcess;
  #waiters: (() => void)[] = [];

  private constructor(socket: string, child: ChildProcess) {
    this.socket = socket;
    this.#child = child;
  }

  static async start(): Promise<FakeSystemd> {
    const socket = join(mkdtempSync(join(tmpdir(), 'nh-sd-')), 'notify.sock');
    const child = spawn('python3', ['-c', RECEIVER, socket], { stdio: ['ignore', 'pipe', 'inherit'] });
    const fake = new FakeSystemd(socket, child);
    let buffered = '';
    let isBound: () => void;
    const bound = new Promise<void>((resolve) => (isBound = resolve));
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      for (let nl = buffered.indexOf('\n'); nl !== -1; nl = buffered.indexOf('\n')) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line === 'bound') isBound();
        else fake.messages.push(line);
        for (const wake of fake.#waiters.splice(0)) wake();
      }
    });
    await bound;
    return fake;
  }

  /** waitFor resolves with the first message (from index `from`) matching `pattern`. */
  async waitFor(pattern: RegExp, from = 0): Promise<{ message: string; index: number }> {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const index = this.messages.findIndex((m, i) => i >= from && pattern.test(m));
      if (index !== -1) return { message: this.messages[index]!, index };
      if (Date.now() > deadline) throw new Error(`no message matching ${pattern}: ${JSON.stringify(this.messages)}`);
      await new Promise<void>((resolve) => {
        this.#waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  close(): void {
    this.#child.kill('SIGKILL');
  }
}

for (const sender of ['systemd-notify', 'python3']) {
  const hasSender = sender === 'python3' || spawnSync('sh', ['-c', 'command -v systemd-notify']).status === 0;
  describe(`sd_notify through ${sender}`, () => {
    test('READY=1 once listening, RELOADING=1 + MONOTONIC_USEC then READY=1 on SIGHUP, STOPPING=1 on SIGTERM', async (t) => {
      if (!hasSender) {
        t.diagnostic('systemd-notify is not installed: the host uses python3 (tested below)');
        return;
      }
      const fake = await FakeSystemd.start();
      try {
        const env = { NOTIFY_SOCKET: fake.socket, ...(sender === 'python3' ? { NODEHOST_NOTIFY_SENDER: 'python3' } : {}) };
        const host = await startNodehost(SITES + 'rewrite-kudu', { env });
        const ready = await fake.waitFor(/(^|\|)READY=1(\||$)/);
        assert.match(ready.message, /STATUS=listening on http:\/\/127\.0\.0\.1:\d+/);
        if (sender === 'systemd-notify') assert.match(ready.message, new RegExp(`MAINPID=${host.child.pid}`), 'the host stays the main process');
        assert.equal((await fetchRaw(host.url, '/anything')).status, 200);
        const before = Number(process.hrtime.bigint() / 1000n);
        host.child.kill('SIGHUP');
        const reloading = await fake.waitFor(/(^|\|)RELOADING=1(\||$)/, ready.index + 1);
        const usec = Number(/MONOTONIC_USEC=(\d+)/.exec(reloading.message)?.[1]);
        assert.ok(usec >= before && usec - before < 10_000_000, `MONOTONIC_USEC ${usec} is CLOCK_MONOTONIC now (${before})`);
        await fake.waitFor(/(^|\|)READY=1(\||$)/, reloading.index + 1);
        assert.equal((await fetchRaw(host.url, '/css/site.css')).status, 200, 'still serving after the reload');
        assert.equal(await host.stop('SIGTERM'), 0);
        await fake.waitFor(/(^|\|)STOPPING=1(\||$)/);
        assert.match(host.stderr(), /"msg":"config reload requested","signal":"SIGHUP"/);
        assert.match(host.stderr(), /"msg":"config reloaded"/);
      } finally {
        fake.close();
      }
    });
  });
}

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** makeSite writes a static site (who.txt) and a nodehost.yml beside it; returns both paths. */
function makeSite(): { dir: string; root: string; yml: string } {
  const dir = mkdtempSync(join(tmpdir(), 'nh-sd-site-'));
  dirs.push(dir);
  const root = join(dir, 'site');
  mkdirSync(root);
  writeFileSync(join(root, 'who.txt'), 'site\n');
  return { dir, root, yml: join(dir, 'nodehost.yml') };
}

/** reloadThroughApi sends POST /v1/reload on the control socket of `root`; resolves with the answer's JSON. */
function reloadThroughApi(root: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath: controlPaths(root).socketPath, method: 'POST', path: '/v1/reload', agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve(JSON.parse(text)));
    });
    req.on('error', reject);
    req.end();
  });
}

/** reloaded waits for RELOADING=1 and then READY=1 after message `from`; resolves with the index of the READY=1. */
async function reloaded(fake: FakeSystemd, from: number): Promise<number> {
  const reloading = await fake.waitFor(/(^|\|)RELOADING=1(\||$)/, from);
  assert.match(reloading.message, /MONOTONIC_USEC=\d+/);
  return (await fake.waitFor(/(^|\|)READY=1(\||$)/, reloading.index + 1)).index;
}

describe('sd_notify around every reload', () => {
  test('a reload through the admin API and a change to nodehost.yml send RELOADING=1, then READY=1', async () => {
    const { root, yml } = makeSite();
    writeFileSync(yml, `root: site\nlogs: ""\n`);
    const fake = await FakeSystemd.start();
    try {
      const host = await startNodehost('', { args: ['--config', yml], env: { NOTIFY_SOCKET: fake.socket }, waitFor: /control socket / });
      let ready = (await fake.waitFor(/(^|\|)READY=1(\||$)/)).index;
      assert.deepEqual(await reloadThroughApi(root), { reloaded: true });
      ready = await reloaded(fake, ready + 1);
      writeFileSync(yml, `# edited\nroot: site\nlogs: ""\n`);
      ready = await reloaded(fake, ready + 1);
      assert.equal((await fetchRaw(host.url, '/who.txt')).text, 'site\n');
      assert.equal(await host.stop('SIGTERM'), 0);
      await fake.waitFor(/(^|\|)STOPPING=1(\||$)/, ready + 1);
    } finally {
      fake.close();
    }
  });

  test('with hostProcesses 2 the primary speaks: READY=1 once both front doors listen, each reload (SIGHUP, file, API) reaches both, STOPPING=1', async () => {
    const { root, yml } = makeSite();
    const port = await freePort();
    const added = await freePort();
    const config = (bindings: string[]) => `hostProcesses: 2\nlogs: ""\nsites:\n  - name: site\n    root: site\n    bindings: ${JSON.stringify(bindings)}\n`;
    writeFileSync(yml, config([`http://*:${port}`]));
    const fake = await FakeSystemd.start();
    try {
      const host = await startNodehost('', { port: false, args: ['--config', yml], env: { NOTIFY_SOCKET: fake.socket }, waitFor: /control socket / });
      const first = await fake.waitFor(/(^|\|)READY=1(\||$)/);
      assert.match(first.message, new RegExp(`STATUS=listening on http://127\\.0\\.0\\.1:${port}/ \\(2 host processes\\)`));
      if (/MAINPID=/.test(first.message)) assert.match(first.message, new RegExp(`MAINPID=${host.child.pid}(\\||$)`), 'the primary is the main process');
      assert.equal(fake.messages.filter((m) => /(^|\|)READY=1(\||$)/.test(m)).length, 1, 'one READY=1 for both front doors');
      assert.equal(host.stderr().split('"msg":"front door started"').length - 1, 2, 'both front doors listened before READY=1');
      // Each front door logs its own re-read of nodehost.yml.
      const rereads = () => host.stderr().split('"msg":"host config reloaded"').length - 1;
      const bothReread = (count: number) => waitForLog(host.child.stderr!, host.stderr, new RegExp(`("msg":"host config reloaded"[^]*){${count}}`));

      host.child.kill('SIGHUP');
      let ready = await reloaded(fake, first.index + 1);
      await bothReread(2);
      writeFileSync(yml, config([`http://*:${port}`, `http://*:${added}`]));
      ready = await reloaded(fake, ready + 1);
      await bothReread(4);
      assert.equal((await fetchRaw(`http://127.0.0.1:${added}`, '/who.txt')).text, 'site\n', 'the binding the edit added answers');
      assert.deepEqual(await reloadThroughApi(root), { reloaded: true });
      ready = await reloaded(fake, ready + 1);
      await bothReread(6);
      assert.equal(rereads(), 6, 'once per front door and reload: the front doors do not watch the file themselves');
      assert.equal(await host.stop('SIGTERM'), 0);
      await fake.waitFor(/(^|\|)STOPPING=1(\||$)/, ready + 1);
      assert.match(host.stderr(), /"msg":"config reload requested","signal":"SIGHUP"/);
    } finally {
      fake.close();
    }
  });
});

describe('nodehost service install', () => {
  test('prints a Type=notify unit with the hardening and paths it needs; systemd-analyze verify accepts it', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'nh-unit-'));
    writeFileSync(join(dir, 'nodehost.yml'), `root: ${SITES}main\nlogs: ${join(dir, 'logs')}\n`);
    const { stdout: unit } = await run(process.execPath, [BIN, 'service', 'install', '--config', join(dir, 'nodehost.yml'), '--user', 'daemon']);
    for (const line of [
      'Type=notify',
      'NotifyAccess=all',
      'Restart=on-failure',
      'KillMode=mixed',
      'LimitNOFILE=65536',
      'NoNewPrivileges=yes',
      'ProtectSystem=strict',
      'ExecReload=/bin/kill -HUP $MAINPID',
      'User=daemon',
      `ExecStart=${process.execPath} ${BIN} serve --config ${join(dir, 'nodehost.yml')}`,
    ]) {
      assert.ok(unit.split('\n').includes(line), `the unit has ${line}\n${unit}`);
    }
    const writable = /^ReadWritePaths=(.*)$/m.exec(unit)?.[1]?.split(' ') ?? [];
    assert.deepEqual(writable, ['/tmp', `-${SITES}main`, `-${join(dir, 'logs')}`]);
    const hasAnalyze = spawnSync('sh', ['-c', 'command -v systemd-analyze']).status === 0;
    if (!hasAnalyze) {
      t.diagnostic('systemd-analyze is not installed: the unit was checked by its content only');
      return;
    }
    const file = join(dir, 'nodehost.service');
    writeFileSync(file, unit);
    const verify = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' });
    assert.equal(verify.status, 0, verify.stderr);
    assert.doesNotMatch(verify.stderr, /nodehost\.service:\d+:/, 'no complaint about a line of the unit');
  });

  test('--write writes the unit (to --path here); errors and usage', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nh-unit-'));
    const target = join(dir, 'nodehost.service');
    const { stdout } = await run(process.execPath, [BIN, 'service', 'install', SITES + 'main', '--write', '--path', target]);
    assert.match(stdout, /wrote .*nodehost\.service/);
    const unit = readFileSync(target, 'utf8');
    assert.match(unit, new RegExp(`^ExecStart=.* serve ${SITES}main$`, 'm'));
    assert.doesNotMatch(unit, /^User=/m);
    const bad = await run(process.execPath, [BIN, 'service', 'install', SITES + 'main', '--user', 'a b']).catch((err) => err);
    assert.equal(bad.code, 2);
    const none = await run(process.execPath, [BIN, 'service', 'install']).catch((err) => err);
    assert.equal(none.code, 2);
    const missing = await run(process.execPath, [BIN, 'service', 'install', '--config', join(dir, 'absent.yml')]).catch((err) => err);
    assert.equal(missing.code, 1);
  });
});
