/**
 * Faults around the host: a worker killed with SIGKILL under load, workers that answer
 * garbage or close kept-alive connections right after answering, an access log folder that
 * fills up and a worker log folder that turns read-only. The rest keeps working; the figures (failed requests, time to a replacement)
 * are printed as test diagnostics, not asserted as timings.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fetchStrict } from '../helpers/strict-http.js';
import { logged, startHardeningHost } from './hardening-host.js';

describe('faults', () => {
  test('kill -9 of one of two workers under 8 clients: the requests it held are retried on the other, none fails, and a new worker takes its place', {
    timeout: 60_000,
  }, async (t) => {
    const host = await startHardeningHost();
    try {
      const pids = new Set<string>();
      let done = 0;
      let killedAt = 0;
      let victim = '';
      let replacedAt = 0;
      let doneAtReplacement = 0;
      const failures: number[] = [];
      const client = async () => {
        // Bounded: at most 400 requests per client; stops once a replacement served 100 more.
        for (let i = 0; i < 400 && !(replacedAt > 0 && done > 200 + doneAtReplacement); i++) {
          const startedAt = performance.now();
          try {
            const reply = await fetchStrict(host.url, '/pool/app.js/pid');
            assert.equal(reply.status, 200);
            if (killedAt > 0 && !pids.has(reply.text) && replacedAt === 0) {
              replacedAt = performance.now();
              doneAtReplacement = done;
            }
            pids.add(reply.text);
          } catch {
            failures.push(startedAt);
          }
          done++;
          if (killedAt === 0 && done >= 100 && pids.size === 2) {
            victim = [...pids][0]!;
            killedAt = performance.now();
            process.kill(Number(victim), 'SIGKILL');
          }
        }
      };
      await Promise.all(Array.from({ length: 8 }, client));
      const retried = host.stderr().split('"msg":"request retried on another worker"').length - 1;
      t.diagnostic(
        `${done} requests, ${failures.length} failed, ${retried} retried on the other worker, replacement served ${replacedAt > 0 ? (replacedAt - killedAt).toFixed(0) : '-'} ms after the kill`,
      );
      assert.ok(killedAt > 0, 'no worker was killed');
      assert.ok(replacedAt > 0, 'no replacement worker served');
      // The requests the killed worker held, and those routed to it before its exit was seen, are
      // GETs of which nothing was answered yet: each is retried once on the other worker.
      assert.equal(failures.length, 0, `${failures.length} of ${done} requests failed`);
    } finally {
      assert.equal(await host.close(), 0);
    }
  });

  test('a worker that never listens: its requests get 500.1001 and the host log says so; other apps keep serving', { timeout: 30_000 }, async () => {
    const host = await startHardeningHost();
    try {
      for (let i = 0; i < 2; i++) {
        assert.equal((await fetchStrict(host.url, '/deaf/app.js')).status, 500);
        assert.equal((await fetchStrict(host.url, '/app.js')).text, 'app');
      }
      await logged(host, /worker not listening/);
    } finally {
      assert.equal(await host.close(), 0);
    }
  });

  test('a worker that answers garbage gets 500.1014, and the next request is served', async () => {
    const host = await startHardeningHost();
    try {
      for (let i = 0; i < 3; i++) {
        assert.equal((await fetchStrict(host.url, '/raw.js/garbage')).status, 500);
        assert.equal((await fetchStrict(host.url, '/raw.js/plain')).text, 'raw');
      }
      assert.match(host.stderr(), /NH_ERR_WORKER_BAD_RESPONSE/);
    } finally {
      assert.equal(await host.close(), 0);
    }
  });

  test('a worker whose status line has a control character in its reason phrase gets 500.1014, compressed or not; the host stays up', async () => {
    const host = await startHardeningHost();
    try {
      for (const encoding of ['gzip', 'identity']) {
        const reply = await fetchStrict(host.url, '/raw.js/badreason', { headers: { 'accept-encoding': encoding } });
        assert.equal(reply.status, 500, encoding);
        assert.equal((await fetchStrict(host.url, '/raw.js/plain')).text, 'raw');
      }
      assert.match(host.stderr(), /NH_ERR_WORKER_BAD_RESPONSE/);
    } finally {
      assert.equal(await host.close(), 0);
    }
  });

  test('a worker that closes each kept-alive connection right after answering: every request succeeds', async () => {
    const host = await startHardeningHost();
    try {
      for (let i = 0; i < 40; i++) assert.equal((await fetchStrict(host.url, `/raw.js/keepclose?${i}`)).text, 'hello');
    } finally {
      assert.equal(await host.close(), 0);
    }
  });

  test('an access log folder that fills up: serving goes on, the failure is reported once, logging resumes when space returns', {
    timeout: 60_000,
  }, async () => {
    let logs = '';
    let unblock: () => void = () => {};
    let cleanup: () => void = () => {};
    const host = await startHardeningHost('logs: logs\n', (site) => {
      logs = join(site, '..', 'logs');
      mkdirSync(logs);
      try {
        // A full disk: a small tmpfs filled to the last byte (root only).
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', logs], { stdio: 'ignore' });
        try {
          execFileSync('dd', ['if=/dev/zero', `of=${join(logs, 'fill')}`, 'bs=4k'], { stdio: 'ignore' });
        } catch {
          // dd stops with an error once the disk is full: that is the point.
        }
        unblock = () => rmSync(join(logs, 'fill'));
        cleanup = () => execFileSync('umount', [logs]);
      } catch {
        // Without mount: a file where the site's log folder must be made.
        writeFileSync(join(logs, 'hardening'), 'in the way');
        unblock = () => rmSync(join(logs, 'hardening'));
      }
    });
    try {
      for (let i = 0; i < 30; i++) assert.equal((await fetchStrict(host.url, `/public.txt?blocked=${i}`)).status, 200);
      const warned = () =>
        host
          .stderr()
          .split('\n')
          .filter((line) => line.includes('cannot write the access log')).length;
      await logged(host, /cannot write the access log/);
      for (let i = 0; i < 30; i++) assert.equal((await fetchStrict(host.url, `/public.txt?still=${i}`)).status, 200);
      unblock();
      await waitFor(async () => {
        await fetchStrict(host.url, '/public.txt?after');
        return /access log written again/.test(host.stderr()) && accessLogText(logs).includes('after');
      });
      assert.equal(warned(), 1);
    } finally {
      assert.equal(await host.stop(), 0);
      cleanup();
      await host.close();
    }
  });

  test('a worker log folder that turns read-only: serving goes on, the failure is reported once, the log resumes when it is writable', {
    timeout: 60_000,
  }, async () => {
    let folder = '';
    let makeWritable: () => void = () => {};
    let cleanup: () => void = () => {};
    const host = await startHardeningHost('', (site) => {
      folder = join(site, 'logged', 'iisnode');
      mkdirSync(folder);
      try {
        // A read-only file system (root ignores a folder's mode bits).
        execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,ro', 'tmpfs', folder], { stdio: 'ignore' });
        makeWritable = () => execFileSync('mount', ['-o', 'remount,rw', folder]);
        cleanup = () => execFileSync('umount', [folder]);
      } catch {
        // Without mount: a file where the log folder must be.
        rmSync(folder, { recursive: true });
        writeFileSync(folder, 'in the way');
        makeWritable = () => rmSync(folder);
      }
    });
    const warned = () =>
      host
        .stderr()
        .split('\n')
        .filter((line) => line.includes('cannot write worker log')).length;
    try {
      for (let i = 0; i < 20; i++) assert.equal((await fetchStrict(host.url, `/logged/app.js?blocked=${i}`)).text, 'logged');
      await logged(host, /cannot write worker log/);
      for (let i = 0; i < 20; i++) assert.equal((await fetchStrict(host.url, `/logged/app.js?still=${i}`)).text, 'logged');
      makeWritable();
      // Writes are tried again at most once a second: keep asking until a line reaches a file.
      await waitFor(async () => {
        await fetchStrict(host.url, '/logged/app.js?after');
        return /worker log written again/.test(host.stderr()) && workerLogText(folder).includes('hit /logged/app.js?after');
      });
      assert.equal(warned(), 1);
    } finally {
      assert.equal(await host.stop(), 0);
      cleanup();
      await host.close();
    }
  });
});

/** workerLogText is every worker log file in a folder so far, joined. */
function workerLogText(folder: string): string {
  try {
    return readdirSync(folder)
      .filter((name) => name.endsWith('.txt'))
      .map((name) => readFileSync(join(folder, name), 'utf8'))
      .join('');
  } catch {
    return '';
  }
}

/** accessLogText is every access log file of the site so far, joined. */
function accessLogText(logs: string): string {
  const dir = join(logs, 'hardening');
  try {
    return readdirSync(dir)
      .map((name) => readFileSync(join(dir, name), 'utf8'))
      .join('');
  } catch {
    return '';
  }
}

/** waitFor checks `condition` every 100 ms, at most 300 times (the access log writes in batches, on a timer). */
async function waitFor(condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 300; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error('the condition did not hold within 300 checks');
}
