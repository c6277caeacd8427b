/**
 * Zero-downtime deploys, end to end with the real binary and real processes: watchedFiles,
 * graceful recycle, the recycle signal, the CLI, configuration re-reads.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { request } from 'node:http';
import path from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { BIN, fetchRaw, startNodehost, type RunningHost } from './helpers/nodehost.js';
import { copySite, pollUntil, setVersion, waitForFile, waitForLog } from './helpers/recycle.js';

const run = promisify(execFile);

function setIisnode(dir: string, attributes: Record<string, string>): void {
  const file = path.join(dir, 'web.config');
  let text = fs.readFileSync(file, 'utf8');
  for (const [name, value] of Object.entries(attributes)) {
    text = new RegExp(` ${name}="[^"]*"`).test(text)
      ? text.replace(new RegExp(` ${name}="[^"]*"`), ` ${name}="${value}"`)
      : text.replace('<iisnode ', `<iisnode ${name}="${value}" `);
  }
  fs.writeFileSync(file, text);
}

async function withSite(attributes: Record<string, string>, body: (dir: string, host: RunningHost) => Promise<void>): Promise<void> {
  const dir = copySite('recycle');
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.writeFileSync(path.join(dir, 'node_modules', 'dep.js'), "module.exports = { version: 'dep1' };\n");
  setIisnode(dir, attributes);
  const host = await startNodehost(dir);
  try {
    await body(dir, host);
  } finally {
    await host.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function pidOf(reply: { text: string }): number {
  return Number(reply.text.split(' ')[0]);
}

test('a changed app file: the next body is the new version, and the old worker got SIGTERM', async () => {
  await withSite({}, async (dir, host) => {
    const first = await fetchRaw(host.url, '/app.js/pid');
    assert.match(first.text, / v1$/);
    const oldPid = pidOf(first);
    setVersion(path.join(dir, 'app.js'), 'v2');
    const second = await pollUntil(host.url, '/app.js/pid', (r) => r.text.endsWith(' v2'));
    assert.notEqual(pidOf(second), oldPid);
    await waitForFile(path.join(dir, `sigterm-${oldPid}.txt`));
    assert.equal(fs.readFileSync(path.join(dir, `sigterm-${oldPid}.txt`), 'utf8'), 'v1');
    assert.match(host.stderr(), /"msg":"app recycled"/);
  });
});

test('a dependency under node_modules/*.js is watched; a missing watched folder is harmless', async () => {
  // watchedFiles of the site: *.js;iisnode.yml;node_modules/*.js;idontexist/*
  await withSite({}, async (dir, host) => {
    assert.equal((await fetchRaw(host.url, '/app.js/dep')).text, 'dep1');
    fs.writeFileSync(path.join(dir, 'node_modules', 'dep.js'), "module.exports = { version: 'dep2' };\n");
    await pollUntil(host.url, '/app.js/dep', (r) => r.text === 'dep2');
  });
});

test('a burst of changes gives one recycle', async () => {
  await withSite({}, async (dir, host) => {
    await fetchRaw(host.url, '/app.js/version');
    for (let i = 0; i < 50; i++) fs.writeFileSync(path.join(dir, `extra${i}.js`), `// ${i}\n`);
    setVersion(path.join(dir, 'app.js'), 'v2');
    await pollUntil(host.url, '/app.js/version', (r) => r.text === 'v2');
    const status = await run(process.execPath, [BIN, 'status', dir, '--json']);
    const app = JSON.parse(status.stdout).apps[0];
    assert.equal(app.generation, 2, 'one recycle for 51 files');
  });
});

test('an iisnode.yml change made inside a request is seen by the very next request (2 → 4 processes)', async () => {
  await withSite({ nodeProcessCountPerApplication: '2' }, async (_dir, host) => {
    const before = await fetchRaw(host.url, '/app.js/version');
    assert.match(String(before.headers['iisnode-debug']), /app_processes=2&/);
    const written = await fetchRaw(host.url, `/app.js/yml?text=${encodeURIComponent('nodeProcessCountPerApplication: 4\n')}`);
    assert.equal(written.text, 'written');
    const after = await fetchRaw(host.url, '/app.js/version');
    assert.match(String(after.headers['iisnode-debug']), /app_processes=4&/);
  });
});

test('the recycle signal twice gives three different pids', async () => {
  await withSite({}, async (_dir, host) => {
    const pids = [pidOf(await fetchRaw(host.url, '/app.js/pid'))];
    for (let i = 0; i < 2; i++) {
      assert.match((await fetchRaw(host.url, '/app.js/signal')).text, /^signalled by/);
      const last = pids[pids.length - 1];
      pids.push(pidOf(await pollUntil(host.url, '/app.js/pid', (r) => pidOf(r) !== last)));
    }
    assert.equal(new Set(pids).size, 3, pids.join(' '));
  });
});

test('nodehost recycle returns when the new generation serves', async () => {
  await withSite({}, async (dir, host) => {
    const oldPid = pidOf(await fetchRaw(host.url, '/app.js/pid'));
    const { stdout } = await run(process.execPath, [BIN, 'recycle', dir, '--app', '/app.js']);
    assert.match(stdout, /generation 2 is serving/);
    assert.notEqual(pidOf(await fetchRaw(host.url, '/app.js/pid')), oldPid);
    await assert.rejects(
      run(process.execPath, [BIN, 'recycle', dir, '--app', '/nothere.js']),
      (err: { code?: number; stdout?: string }) => err.code === 1 && /no running application/.test(err.stdout ?? ''),
    );
  });
});

/** hold starts a /hold request and resolves with its first line once it arrived; `finish()` ends the body; `done` settles with the full text or the cut. */
function hold(base: string): Promise<{ firstLine: string; finish(): void; done: Promise<{ text: string; isComplete: boolean }> }> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({
      host: url.hostname,
      port: url.port,
      method: 'POST',
      path: '/app.js/hold',
      headers: { 'Transfer-Encoding': 'chunked' },
      agent: false,
    });
    req.on('error', reject);
    req.write('x');
    req.on('response', (res) => {
      let text = '';
      let resolveDone!: (value: { text: string; isComplete: boolean }) => void;
      const done = new Promise<{ text: string; isComplete: boolean }>((r) => (resolveDone = r));
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        const isFirst = text === '';
        text += chunk;
        if (isFirst) resolve({ firstLine: text.split('\n')[0]!, finish: () => req.end(), done });
      });
      res.on('end', () => resolveDone({ text, isComplete: true }));
      res.on('aborted', () => resolveDone({ text, isComplete: false }));
      res.on('error', () => resolveDone({ text, isComplete: false }));
      res.on('close', () => resolveDone({ text, isComplete: res.complete }));
      req.on('error', () => resolveDone({ text, isComplete: false }));
    });
  });
}

test('a request in flight during a recycle completes with the old version', async () => {
  await withSite({}, async (dir, host) => {
    const held = await hold(host.url);
    assert.match(held.firstLine, /^v1 /);
    setVersion(path.join(dir, 'app.js'), 'v2');
    await pollUntil(host.url, '/app.js/version', (r) => r.text === 'v2');
    held.finish();
    const result = await held.done;
    assert.equal(result.isComplete, true);
    assert.match(result.text, /done v1$/);
  });
});

test('a long request over gracefulShutdownTimeout is cut at the timeout', async () => {
  await withSite({ gracefulShutdownTimeout: '1000' }, async (dir, host) => {
    const held = await hold(host.url);
    const oldPid = Number(held.firstLine.split(' ')[1]);
    setVersion(path.join(dir, 'app.js'), 'v2');
    await pollUntil(host.url, '/app.js/version', (r) => r.text === 'v2');
    const result = await held.done;
    assert.equal(result.isComplete, false, 'the response was cut');
    assert.ok(!result.text.includes('done'));
    // Cut by SIGKILL: the app never saw SIGTERM.
    assert.equal(fs.existsSync(path.join(dir, `sigterm-${oldPid}.txt`)), false);
    await waitForLog(host.child.stderr!, host.stderr, new RegExp(`"msg":"worker exited".*"pid":${oldPid}.*"signal":"SIGKILL"`));
  });
});

test('a deploy that cannot start shows the developer error page; a fix recycles again', async () => {
  await withSite({}, async (dir, host) => {
    assert.equal((await fetchRaw(host.url, '/app.js/version')).text, 'v1');
    const file = path.join(dir, 'app.js');
    const good = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, `${good}\nthis is not javascript(\n`);
    const failed = await pollUntil(host.url, '/app.js/version', (r) => r.text !== 'v1');
    assert.match(failed.text, /SyntaxError/);
    fs.writeFileSync(file, good.replace("const VERSION = 'v1';", "const VERSION = 'v3';"));
    await pollUntil(host.url, '/app.js/version', (r) => r.text === 'v3');
  });
});

test('recycleKeepsOldOnFailure keeps the old generation serving and reports the failed deploy', async () => {
  await withSite({ recycleKeepsOldOnFailure: 'true' }, async (dir, host) => {
    const oldPid = pidOf(await fetchRaw(host.url, '/app.js/pid'));
    fs.appendFileSync(path.join(dir, 'app.js'), '\nthis is not javascript(\n');
    await waitForLog(host.child.stderr!, host.stderr, /"msg":"recycle failed"/);
    const reply = await fetchRaw(host.url, '/app.js/pid');
    assert.equal(reply.text, `${oldPid} v1`);
    const status = JSON.parse((await run(process.execPath, [BIN, 'status', dir, '--json'])).stdout);
    assert.match(status.apps[0].lastRecycleError, /NH_ERR_WORKER_EXITED_BEFORE_READY/);
  });
});

test('a web.config change is seen by the next request; a broken one keeps the last good configuration', async () => {
  await withSite({}, async (dir, host) => {
    assert.equal((await fetchRaw(host.url, '/app.js/env')).text, 'red');
    const file = path.join(dir, 'web.config');
    const good = fs.readFileSync(file, 'utf8');
    fs.writeFileSync(file, good.replace('value="red"', 'value="blue"'));
    assert.equal((await fetchRaw(host.url, '/app.js/env')).text, 'blue');
    // Broken XML: loopback clients see the configuration error; the host log and check report it.
    fs.writeFileSync(file, good.replace('</configuration>', ''));
    const broken = await fetchRaw(host.url, '/app.js/env');
    assert.match(broken.text, /web\.config/);
    assert.notEqual(broken.text, 'blue');
    await waitForLog(host.child.stderr!, host.stderr, /"msg":"config error"/);
    await assert.rejects(run(process.execPath, [BIN, 'check', dir]));
    const status = JSON.parse((await run(process.execPath, [BIN, 'status', dir, '--json'])).stdout);
    assert.notEqual(status.configError, '');
    // The fix is seen by the next request, and the app still has the last good settings.
    fs.writeFileSync(file, good.replace('value="red"', 'value="blue"'));
    assert.equal((await fetchRaw(host.url, '/app.js/env')).text, 'blue');
  });
});
