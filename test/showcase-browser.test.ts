/**
 * The showcase in a real browser (Debian's chromium through playwright-core): the landing page
 * renders with its stylesheet and links every demo, the two-process demo shows two pids, the
 * chat shows a message sent from the page, the deploy page counts no failed request through a
 * deploy, and a screenshot of the landing page is written to test/.tmp/showcase.png.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { copyShowcase, type ShowcaseCopy } from './helpers/showcase.js';
import { startNodehost, type RunningHost } from './helpers/nodehost.js';

const CHROMIUM = '/usr/bin/chromium';
const SCREENSHOT = fileURLToPath(new URL('./.tmp/showcase.png', import.meta.url));

let copy: ShowcaseCopy;
let host: RunningHost;
let browser: Browser;

before(async () => {
  if (!fs.existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: apt-get install -y chromium (.ci/run installs it)`);
  copy = await copyShowcase();
  host = await startNodehost('', { port: false, args: ['--config', copy.config], waitFor: /admin listener / });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
});

after(async () => {
  await browser?.close();
  await host?.stop();
  copy?.remove();
});

it('renders the landing page with every demo linked, and writes a screenshot', async () => {
  const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
  const reply = await page.goto(host.url);
  assert.equal(reply?.status(), 200);
  assert.equal(await page.title(), 'nodehost showcase');
  // The shared stylesheet applied: the cards are laid out as a grid.
  assert.equal(await page.locator('.cards').evaluate((cards) => getComputedStyle(cards).display), 'grid');
  const links = await page.locator('.card a').evaluateAll((anchors) => anchors.map((a) => (a as HTMLAnchorElement).getAttribute('href')));
  assert.equal(links.length, 15);
  for (const demo of ['/static/', '/api/', '/kudu/', '/logs/', '/deploy/', '/chat/', '/debug/app.js/debug/', '/compression/', '/cached/', '/members/'])
    assert.ok(links.includes(demo), demo);
  for (const demo of [`https://localhost:${copy.ports.https}/`, `http://127.0.0.1:${copy.ports.admin}/`, `http://127.0.0.1:${copy.ports.admin}/metrics`])
    assert.ok(links.includes(demo), demo);
  fs.mkdirSync(path.dirname(SCREENSHOT), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
  assert.ok(fs.statSync(SCREENSHOT).size > 0);
  await page.close();
});

it('shows the two processes of the express app after a click', async () => {
  const page = await browser.newPage();
  await page.goto(`${host.url}/`);
  await page.click('a[href="/api/"]');
  await page.click('#ask');
  await page.locator('#answers li').nth(5).waitFor();
  const pids = (await page.locator('#pids').textContent())!.split(', ');
  assert.equal(pids.length, 2);
  for (const pid of pids) assert.match(pid, /^\d+$/);
  await page.close();
});

it('sends a chat message over socket.io and shows it', async () => {
  const page = await browser.newPage();
  await page.goto(`${host.url}/chat/`);
  await page.locator('#pid').filter({ hasText: /^\d+$/ }).waitFor();
  await page.fill('#text', 'hello from chromium');
  await page.click('#form button');
  const message = page.locator('#messages li').first();
  await message.waitFor();
  assert.match((await message.textContent())!, /^guest-\d+ \(via process \d+\): hello from chromium$/);
  await page.close();
});

it("keeps the deploy page's failure counter at zero through a deploy", async () => {
  const page = await browser.newPage();
  await page.goto(`${host.url}/deploy/`);
  await page.locator('#deployment').filter({ hasText: /^0$/ }).waitFor();
  await page.click('#deploy');
  // The page shows the new deployment once a worker of the new generation answered it.
  await page.locator('#deployment').filter({ hasText: /^1$/ }).waitFor();
  assert.equal(await page.locator('#failed').textContent(), '0');
  assert.ok(Number(await page.locator('#requests').textContent()) > 1);
  await page.close();
});
