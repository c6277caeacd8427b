// The dashboard (docs/admin.md) in a real browser: Debian's chromium driven by playwright-core
// against the real binary's TCP admin listener with a token. The page asks for the token, shows
// the running application and its worker's pid, and its buttons recycle (the pid changes on the
// page), stop and start it. A screenshot is written; the test prints its path.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { chromium } from 'playwright-core';
import { fetchRaw, startNodehost } from './helpers/nodehost.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const TOKEN = 'dashboard-s3cret';

const dirs: string[] = [];
after(() => {
  for (const dir of dirs) fs.rmSync(dir, { recursive: true, force: true });
});

function makeSite(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nh-dashboard-'));
  dirs.push(dir);
  const site = path.join(dir, 'site');
  fs.mkdirSync(site);
  fs.writeFileSync(path.join(site, 'package.json'), '{ "type": "commonjs", "private": true }\n');
  fs.writeFileSync(
    path.join(site, 'app.js'),
    "require('node:http').createServer((req, res) => { console.log('request', req.url); res.end(String(process.pid)); }).listen(process.env.PORT);\n",
  );
  fs.writeFileSync(
    path.join(site, 'web.config'),
    '<configuration><system.webServer><handlers><add name="iisnode" path="app.js" verb="*" modules="iisnode"/></handlers><iisnode preload="true"/></system.webServer></configuration>',
  );
  fs.writeFileSync(path.join(dir, 'nodehost.yml'), `root: site\nname: shop\nadmin:\n  listen: 127.0.0.1:0\n  token: ${TOKEN}\n`);
  return dir;
}

test('the dashboard shows the app and its pid, and its buttons recycle, stop and start it', async () => {
  const dir = makeSite();
  const host = await startNodehost('', { args: ['--config', path.join(dir, 'nodehost.yml')], waitFor: /admin listener / });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  try {
    const admin = /admin listener (http:\/\/\S+)/.exec(host.stdout())![1]!;
    const pid = (await fetchRaw(host.url, '/app.js')).text;
    for (let i = 0; i < 20; i++) await fetchRaw(host.url, '/app.js');
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));

    await page.goto(admin);
    await page.locator('#login').waitFor({ state: 'visible' });
    await page.fill('#token', TOKEN);
    await page.click('#login button[type=submit]');
    const card = page.locator('[data-app="/app.js"]');
    const pidCell = card.locator('td.pid').first();
    await pidCell.filter({ hasText: pid }).waitFor();
    assert.equal(await card.locator('.state').textContent(), 'serving');
    assert.equal(await page.locator('#login').isHidden(), true, 'the token form goes once signed in');
    await page.locator('#events li', { hasText: 'worker spawned' }).first().waitFor();
    assert.match((await page.locator('#sites').textContent()) ?? '', /shop/);
    const logs = await card.locator('a.logs').getAttribute('href');
    assert.equal(logs, new URL('/iisnode/', host.url).href, 'the logs link is the log folder on the site');
    assert.equal((await fetchRaw(host.url, '/iisnode/')).status, 200);
    // Latency percentiles come from /metrics: the 21 requests above.
    await card.locator('.latency', { hasText: /\d/ }).waitFor();

    await card.locator('button[data-act=recycle]').click();
    await page.waitForFunction((old) => {
      const cell = document.querySelector('[data-app="/app.js"] td.pid');
      return cell !== null && /^\d+$/.test(cell.textContent ?? '') && cell.textContent !== old;
    }, pid);
    const recycled = (await pidCell.textContent())!;
    assert.equal((await fetchRaw(host.url, '/app.js')).text, recycled, 'the page shows the new worker');
    assert.equal(await card.locator('.generation').textContent(), 'generation 2');

    const screenshot = path.join(os.tmpdir(), `nodehost-dashboard-${process.pid}.png`);
    await page.screenshot({ path: screenshot, fullPage: true });
    console.log(`dashboard screenshot: ${screenshot}`);

    // On a phone the page is one column with nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    assert.ok(await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'no horizontal scrolling at 390 px');

    await card.locator('button[data-act=stop]').click();
    await page.locator('[data-app="/app.js"][data-state="stopped"]').waitFor();
    assert.equal(await card.locator('button[data-act=recycle]').isHidden(), true);
    await card.locator('button[data-act=start]').click();
    await page.locator('[data-app="/app.js"][data-state="serving"]').waitFor();
    const started = (await pidCell.textContent())!;
    assert.notEqual(started, recycled);
    assert.deepEqual(pageErrors, []);
    assert.equal(await host.stop(), 0);
  } finally {
    await browser.close();
    await host.stop();
  }
});
