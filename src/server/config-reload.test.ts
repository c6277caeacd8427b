import assert from 'node:assert/strict';
import { once } from 'node:events';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { ConfigReloadWatcher } from './config-reload.js';

const CONFIG = '<configuration><system.webServer/></configuration>';

test('a new folder re-reads the configuration only when it brings a web.config', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nh-config-reload-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const site = path.join(dir, 'site');
  fs.mkdirSync(site);
  let changes = 0;
  let onChange: () => void = () => {};
  const watcher = new ConfigReloadWatcher({
    siteRoot: site,
    pollingIntervalMs: 1000,
    onChange: () => {
      changes++;
      onChange();
    },
  });
  t.after(() => watcher.close());
  watcher.start();
  const nextChange = () => new Promise<void>((resolve) => (onChange = resolve));

  // A folder that an app or a log makes. The test watches the site root too: the inotify
  // events of one read are handed to every watch of the folder in the same turn, so one turn
  // after the test has seen the event, the watcher under test has handled it as well.
  const observer = fs.watch(site); // persistent: it keeps the test alive until the events come
  t.after(() => observer.close());
  const seen = once(observer, 'change');
  fs.mkdirSync(path.join(site, 'iisnode'));
  await seen;
  await nextTurn();
  assert.equal(changes, 0, 'a folder without a web.config changes no configuration');

  // A folder moved in with its own web.config is a change.
  const prepared = path.join(dir, 'api');
  fs.mkdirSync(prepared);
  fs.writeFileSync(path.join(prepared, 'web.config'), CONFIG);
  let change = nextChange();
  fs.renameSync(prepared, path.join(site, 'api'));
  await change;

  // The new log folder is watched: a web.config written into it later is seen too.
  change = nextChange();
  fs.writeFileSync(path.join(site, 'iisnode', 'web.config'), CONFIG);
  await change;
});
