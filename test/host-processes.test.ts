// hostProcesses (nodehost.yml, serve --host-processes): several front doors share the port,
// each with its own share of the application's processes, behind one control socket.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { BIN, fetchRaw, startNodehost, type RunningHost } from './helpers/nodehost.js';
import { copySite, waitForLog } from './helpers/recycle.js';

const run = promisify(execFile);
const sites: string[] = [];
after(() => {
  for (const site of sites) fs.rmSync(site, { recursive: true, force: true });
});

function site(): string {
  const dir = copySite('host-processes');
  sites.push(dir);
  return dir;
}

interface AppEntry {
  script: string;
  workers: number;
  pids: number[];
  generation: number;
  frontDoor: number;
  frontDoorPid: number;
}

interface Status {
  hostProcesses: number;
  frontDoors: { index: number; pid: number }[];
  apps: AppEntry[];
}

async function status(root: string): Promise<Status> {
  return JSON.parse((await run(process.execPath, [BIN, 'status', root, '--json'])).stdout) as Status;
}

/** descendants lists the live processes below `pid` with their command lines, from /proc. */
function descendants(pid: number): { pid: number; cmdline: string }[] {
  const children = new Map<number, number[]>();
  for (const name of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // Gone between the listing and the read.
    }
  }
  const found: { pid: number; cmdline: string }[] = [];
  const queue = [pid];
  for (let i = 0; i < queue.length; i++) {
    for (const child of children.get(queue[i]!) ?? []) {
      queue.push(child);
      let cmdline = '';
      try {
        cmdline = fs.readFileSync(`/proc/${child}/cmdline`, 'utf8').replaceAll('\0', ' ');
      } catch {
        // Gone.
      }
      found.push({ pid: child, cmdline });
    }
  }
  return found;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * reachBothFrontDoors sends requests on fresh connections until two different app processes
 * (one per front door) have answered; bounded in count and time.
 */
async function reachBothFrontDoors(host: RunningHost, target = '/app.js'): Promise<Set<string>> {
  const pids = new Set<string>();
  const deadline = Date.now() + 20_000;
  for (let i = 0; i < 400 && pids.size < 2 && Date.now() < deadline; i++) {
    const reply = await fetchRaw(host.url, target);
    assert.equal(reply.status, 200, reply.text);
    pids.add(reply.text);
  }
  assert.equal(pids.size, 2, 'requests on fresh connections reached only one front door');
  return pids;
}

/** Held is a request the app holds open: its head and the app's pid arrived, its end waits for the release file. */
interface Held {
  readonly pid: string;
  readonly done: Promise<string>;
}

/** hold sends one /hold request on a fresh connection; resolves with the held request, or with the status of a refusal. */
function hold(host: RunningHost, release: string): Promise<Held | { status: number; substatus: string }> {
  return new Promise((resolve, reject) => {
    const url = new URL(host.url);
    const req = httpRequest({ host: url.hostname, port: url.port, path: `/app.js/hold?release=${encodeURIComponent(release)}`, agent: false });
    req.on('error', reject);
    req.on('response', (res: IncomingMessage) => {
      res.setEncoding('utf8');
      if (res.statusCode !== 200) {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, substatus: String(res.headers['x-nodehost-substatus']) }));
        return;
      }
      let text = '';
      let isHeld = false;
      const done = new Promise<string>((finish, fail) => {
        res.on('end', () => finish(text));
        res.on('error', fail);
      });
      res.on('data', (chunk: string) => {
        text += chunk;
        if (!isHeld && text.includes('\n')) {
          isHeld = true;
          resolve({ pid: text.split('\n')[0]!, done });
        }
      });
    });
    req.end();
  });
}

describe('hostProcesses', () => {
  test('2 front doors (nodehost.yml) with nodeProcessCountPerApplication 2: both serve, 2 app processes in all, status lists both, SIGTERM exits 0 and leaves no process', async () => {
    const root = site();
    const yml = path.join(root, '..', `${path.basename(root)}.yml`);
    sites.push(yml);
    fs.writeFileSync(yml, `root: ${path.basename(root)}\nhostProcesses: 2\n`);
    const host = await startNodehost('', { args: ['--config', yml] });
    try {
      const pids = await reachBothFrontDoors(host);
      const started = [...host.stderr().matchAll(/"msg":"front door started","index":(\d+),"pid":(\d+)/g)];
      assert.deepEqual(new Set(started.map((m) => m[1])), new Set(['0', '1']));
      const apps = descendants(host.child.pid!).filter((p) => p.cmdline.includes('app.js'));
      assert.equal(apps.length, 2, JSON.stringify(apps));
      assert.deepEqual(new Set(apps.map((p) => String(p.pid))), pids);

      const s = await status(root);
      assert.equal(s.hostProcesses, 2);
      assert.deepEqual(
        s.frontDoors.map((d) => d.index),
        [0, 1],
      );
      const entries = s.apps.filter((a) => a.script.endsWith('app.js'));
      assert.deepEqual(entries.map((a) => a.frontDoor).sort(), [0, 1]);
      for (const entry of entries) {
        assert.equal(entry.workers, 1, 'each front door runs its share: 1 of 2');
        assert.equal(entry.frontDoorPid, s.frontDoors[entry.frontDoor]!.pid);
      }
      assert.deepEqual(new Set(entries.flatMap((a) => a.pids.map(String))), pids);

      const tree = descendants(host.child.pid!);
      assert.equal(tree.length, 4, 'two front doors and two app processes');
      assert.equal(await host.stop(), 0);
      for (const p of tree) assert.equal(isAlive(p.pid), false, `${p.pid} (${p.cmdline}) outlived the host`);
    } finally {
      await host.stop();
    }
  });

  test('maxConcurrentRequestsPerProcess 1 stays exact: once both workers hold a request, a third gets 503, and no worker ever served two at once', async () => {
    const root = site();
    const release = path.join(root, 'release');
    const host = await startNodehost(root, { args: ['--host-processes', '2'] });
    try {
      // Wake both front doors' workers first, so a refusal below can only be the quota.
      await reachBothFrontDoors(host);
      const held: Held[] = [];
      let refusedWhileFilling = 0;
      // A request that lands on a front door whose worker is busy is refused even while the
      // other front door's worker is free (each front door knows only its own workers), so
      // fresh connections are tried until both workers hold one; bounded.
      const deadline = Date.now() + 20_000;
      for (let i = 0; i < 200 && held.length < 2 && Date.now() < deadline; i++) {
        const result = await hold(host, release);
        if ('pid' in result) {
          assert.ok(!held.some((h) => h.pid === result.pid), `worker ${result.pid} got a second concurrent request`);
          held.push(result);
        } else {
          assert.deepEqual(result, { status: 503, substatus: '1002' });
          refusedWhileFilling++;
        }
      }
      assert.equal(held.length, 2, `two workers should hold a request (refused meanwhile: ${refusedWhileFilling})`);
      // Three concurrent requests: the third is refused, whichever front door takes it.
      assert.deepEqual(await hold(host, release), { status: 503, substatus: '1002' });
      fs.writeFileSync(release, '');
      for (const h of held) assert.equal(await h.done, `${h.pid}\nreleased\n`);
      // Each app tells the most requests it ever had in flight at once.
      const maxima = new Map<string, string>();
      for (let i = 0; i < 400 && maxima.size < 2; i++) {
        const [pid, max] = (await fetchRaw(host.url, '/app.js/max')).text.split(' ');
        maxima.set(pid!, max!);
      }
      assert.deepEqual([...maxima.keys()].sort(), held.map((h) => h.pid).sort());
      for (const [pid, max] of maxima) assert.equal(max, '1', `worker ${pid} had ${max} requests in flight at once`);
    } finally {
      fs.writeFileSync(release, '');
      await host.stop();
    }
  });

  test('recycle (CLI and IISNODE_CONTROL_PIPE) reaches every front door; sticky sessions and the debugger answer 500 naming hostProcesses', async () => {
    const root = site();
    const host = await startNodehost(root, { args: ['--host-processes', '2'] });
    try {
      await reachBothFrontDoors(host);
      const cli = await run(process.execPath, [BIN, 'recycle', root]);
      assert.match(cli.stdout, /^recycled .*app\.js: generation 2 is serving\n$/);
      let entries = (await status(root)).apps.filter((a) => a.script.endsWith('app.js'));
      assert.deepEqual(entries.map((a) => [a.frontDoor, a.generation]).sort(), [
        [0, 2],
        [1, 2],
      ]);

      // A worker's recycle message goes through its front door to the primary, then to both.
      assert.equal((await fetchRaw(host.url, '/app.js/signal')).text, 'signalled');
      await waitForLog(
        host.child.stderr!,
        host.stderr,
        /"msg":"app recycled","script":"[^"]*app\.js","generation":3[\s\S]*"msg":"app recycled","script":"[^"]*app\.js","generation":3/,
      );
      entries = (await status(root)).apps.filter((a) => a.script.endsWith('app.js'));
      assert.deepEqual(entries.map((a) => [a.frontDoor, a.generation]).sort(), [
        [0, 3],
        [1, 3],
      ]);

      const sticky = await fetchRaw(host.url, '/sticky/app.js');
      assert.equal(sticky.status, 500);
      assert.match(sticky.text, /nodeProcessStickySessions.*hostProcesses/);
      const debug = await fetchRaw(host.url, '/app.js/debug/');
      assert.equal(debug.status, 500);
      assert.match(debug.text, /debugger.*hostProcesses/);
      assert.equal(descendants(host.child.pid!).filter((p) => p.cmdline.includes(path.join('sticky', 'app.js'))).length, 0, 'no sticky worker was started');
    } finally {
      await host.stop();
    }
  });

  test('a front door that exits unasked is replaced and the port keeps serving', async () => {
    const root = site();
    const host = await startNodehost(root, { args: ['--host-processes', '2'] });
    try {
      const before = await status(root);
      const victim = before.frontDoors[1]!.pid;
      process.kill(victim, 'SIGTERM');
      await waitForLog(host.child.stderr!, host.stderr, /"msg":"front door exited","index":1[\s\S]*"msg":"front door started","index":1/);
      const after = await status(root);
      assert.equal(after.frontDoors.length, 2);
      assert.notEqual(after.frontDoors[1]!.pid, victim);
      await reachBothFrontDoors(host);
      assert.equal(await host.stop(), 0);
    } finally {
      await host.stop();
    }
  });

  test('a bad hostProcesses in nodehost.yml is an error naming file:line; a bad flag is a usage error', async () => {
    const root = site();
    const yml = path.join(root, 'nodehost.yml');
    fs.writeFileSync(yml, 'port: 0\nhostProcesses: 0\n');
    const bad = await run(process.execPath, [BIN, 'serve', root, '--config', yml]).then(
      () => assert.fail('serve accepted hostProcesses: 0'),
      (err: { code: number; stderr: string }) => err,
    );
    assert.equal(bad.code, 1);
    assert.ok(bad.stderr.includes(`${yml}:2: setting 'hostProcesses' must be a positive integer or 'auto'`), bad.stderr);
    assert.match(bad.stderr, /NH_ERR_CONFIG_HOST/);
    const flag = await run(process.execPath, [BIN, 'serve', root, '--host-processes', 'two']).then(
      () => assert.fail('serve accepted --host-processes two'),
      (err: { code: number; stderr: string }) => err,
    );
    assert.equal(flag.code, 2, 'usage errors exit 2');
    assert.match(flag.stderr, /--host-processes.*positive integer or 'auto'/);
    assert.match(flag.stderr, /NH_ERR_CLI_USAGE/);
  });
});
