// systemd: the unit `nodehost service install` writes, and the sd_notify messages the host
// sends to NOTIFY_SOCKET (READY=1, RELOADING=1 + MONOTONIC_USEC on SIGHUP, STOPPING=1), read
// by a fake systemd: a python3 Unix datagram receiver.
import assert from 'node:assert/strict';
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { BIN, fetchRaw, SITES, startNodehost } from './helpers/nodehost.js';

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
