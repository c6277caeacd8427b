/**
 * Output caching end to end (docs/output-cache.md): the real binary serving a copy of
 * test/sites/output-cache, whose apps count the requests that reach them, read with the
 * strict client (one framing per response). `x-nodehost-cache` (debugHeaderEnabled) says what
 * the cache did; the apps' counts prove it.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { startNodehost, type RunningHost } from './helpers/nodehost.js';
import { copySite } from './helpers/recycle.js';
import { fetchStrict, type StrictReply } from './helpers/strict-http.js';

let dir: string;
let host: RunningHost;

before(async () => {
  dir = copySite('output-cache');
  host = await startNodehost(dir);
});

after(async () => {
  await host.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

function get(target: string, headers: Record<string, string> = {}, method = 'GET'): Promise<StrictReply> {
  return fetchStrict(host.url, target, { headers, method });
}

/** count is how many GET/HEAD requests the app of `folder` has received. */
async function count(folder: string): Promise<number> {
  const reply = await get(`/${folder}/app.js?count`, {}, 'POST');
  assert.equal(reply.status, 200);
  return Number(reply.text);
}

/** poll repeats `attempt` until `accept` holds, at most `times` times, 50 ms apart; resolves with the accepted reply. */
async function poll(attempt: () => Promise<StrictReply>, accept: (reply: StrictReply) => boolean, times = 200): Promise<StrictReply> {
  let last: StrictReply | undefined;
  for (let i = 0; i < times; i++) {
    last = await attempt();
    if (accept(last)) return last;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`condition not met after ${times} attempts; last: ${last?.status} ${last?.headers['x-nodehost-cache']} ${last?.text.slice(0, 200)}`);
}

/** pollCount waits until the app of `folder` has received at least `n` requests. */
async function pollCount(folder: string, n: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if ((await count(folder)) >= n) return;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error(`${folder}: the app never received ${n} requests`);
}

test('a hit is answered from memory and never reaches node; it carries Date and Age; HEAD is answered from the GET entry', async () => {
  const start = await count('collapse');
  const first = await get('/collapse/app.js?hit=1');
  assert.equal(first.status, 200);
  assert.equal(first.headers['x-nodehost-cache'], 'miss');
  assert.equal(first.headers.age, undefined);
  const second = await get('/collapse/app.js?hit=1');
  assert.equal(second.headers['x-nodehost-cache'], 'hit');
  assert.equal(second.text, first.text);
  assert.equal(second.framing, 'content-length');
  assert.equal(Number(second.headers['content-length']), first.body.length);
  assert.equal(second.headers['content-type'], 'text/plain');
  assert.equal(second.headers.date, first.headers.date, 'the stored response keeps the Date it was made with');
  assert.deepEqual(
    second.rawHeaders.filter((_, i) => i % 2 === 1 && second.rawHeaders[i - 1]!.toLowerCase() === 'x-powered-by'),
    ['nodehost'],
    'a hit carries the custom headers once, as stored',
  );
  assert.match(String(second.headers.age), /^\d+$/);
  const head = await get('/collapse/app.js?hit=1', {}, 'HEAD');
  assert.equal(head.headers['x-nodehost-cache'], 'hit');
  assert.equal(head.body.length, 0);
  assert.equal(Number(head.headers['content-length']), first.body.length);
  assert.equal(await count('collapse'), start + 1, 'only the first request reached node');
});

test('a hit answers If-None-Match and If-Modified-Since with 304 from memory: no body, the validators, never reaching node', async () => {
  const target = '/collapse/app.js?conditional=1&mode=validators';
  const first = await get(target);
  assert.equal(first.status, 200);
  assert.equal(first.headers.etag, '"v1"');
  const start = await count('collapse');
  for (const headers of [
    { 'If-None-Match': '"v1"' },
    { 'If-None-Match': 'W/"other", W/"v1"' },
    { 'If-Modified-Since': 'Tue, 01 Dec 2026 10:00:00 GMT' },
    { 'If-Modified-Since': 'Wed, 02 Dec 2026 10:00:00 GMT' },
  ]) {
    const reply = await get(target, headers);
    assert.equal(reply.status, 304, JSON.stringify(headers));
    assert.equal(reply.headers['x-nodehost-cache'], 'hit');
    assert.equal(reply.body.length, 0);
    assert.equal(reply.framing, 'none');
    assert.equal(reply.headers['content-length'], undefined);
    assert.equal(reply.headers['content-type'], undefined);
    assert.equal(reply.headers.etag, '"v1"');
    assert.equal(reply.headers['last-modified'], 'Tue, 01 Dec 2026 10:00:00 GMT');
    assert.equal(reply.headers.date, first.headers.date);
    assert.equal(reply.headers['x-powered-by'], 'nodehost');
  }
  const head = await get(target, { 'If-None-Match': '"v1"' }, 'HEAD');
  assert.equal(head.status, 304);
  // A validator that does not match (If-None-Match wins over If-Modified-Since), or an older date: the whole hit.
  for (const headers of [
    { 'If-None-Match': '"v2"', 'If-Modified-Since': 'Wed, 02 Dec 2026 10:00:00 GMT' },
    { 'If-Modified-Since': 'Mon, 30 Nov 2026 10:00:00 GMT' },
  ]) {
    const reply = await get(target, headers);
    assert.equal(reply.status, 200, JSON.stringify(headers));
    assert.equal(reply.headers['x-nodehost-cache'], 'hit');
    assert.equal(reply.text, first.text);
  }
  assert.equal(await count('collapse'), start, 'no conditional request reached node');
  // A stored response without validators has nothing to match.
  await get('/collapse/app.js?conditional=2');
  const plain = await get('/collapse/app.js?conditional=2', { 'If-None-Match': '"v1"', 'If-Modified-Since': 'Wed, 02 Dec 2026 10:00:00 GMT' });
  assert.equal(plain.status, 200);
  assert.equal(plain.headers['x-nodehost-cache'], 'hit');
});

test('an entry expires after its duration (1 s)', async () => {
  const start = await count('timed');
  const first = await get('/timed/app.js?id=exp');
  assert.equal(first.headers['x-nodehost-cache'], 'miss');
  assert.equal((await get('/timed/app.js?id=exp')).headers['x-nodehost-cache'], 'hit');
  const refreshed = await poll(
    () => get('/timed/app.js?id=exp'),
    (reply) => reply.headers['x-nodehost-cache'] === 'miss',
  );
  assert.notEqual(refreshed.text, first.text);
  assert.equal(await count('timed'), start + 2);
});

test('varyByQueryString keys on the named parameters only; varyByHeaders on the named headers', async () => {
  const start = await count('vary');
  const a = await get('/vary/app.js?id=1');
  const aOther = await get('/vary/app.js?other=zzz&id=1');
  const b = await get('/vary/app.js?id=2');
  const none = await get('/vary/app.js');
  assert.equal(aOther.headers['x-nodehost-cache'], 'hit');
  assert.equal(aOther.text, a.text);
  assert.equal(b.headers['x-nodehost-cache'], 'miss');
  assert.equal(none.headers['x-nodehost-cache'], 'miss');
  const en = await get('/vary/app.js?id=h', { 'X-Lang': 'en' });
  const fr = await get('/vary/app.js?id=h', { 'X-Lang': 'fr' });
  const enAgain = await get('/vary/app.js?id=h', { 'X-Lang': 'en' });
  assert.match(en.text, /lang=en$/);
  assert.equal(fr.headers['x-nodehost-cache'], 'miss');
  assert.match(fr.text, /lang=fr$/);
  assert.equal(enAgain.headers['x-nodehost-cache'], 'hit');
  assert.equal(enAgain.text, en.text);
  assert.equal(await count('vary'), start + 5);
});

test('compressed and identity variants never mix: the accepted codings are part of the key', async () => {
  const plain = await get('/collapse/app.js?enc=1');
  const gzip = await get('/collapse/app.js?enc=1', { 'Accept-Encoding': 'gzip' });
  assert.equal(plain.headers['x-nodehost-cache'], 'miss');
  assert.equal(gzip.headers['x-nodehost-cache'], 'miss');
  assert.equal((await get('/collapse/app.js?enc=1', { 'Accept-Encoding': 'gzip' })).headers['x-nodehost-cache'], 'hit');
  assert.equal((await get('/collapse/app.js?enc=1', { 'Accept-Encoding': 'identity' })).headers['x-nodehost-cache'], 'hit');
});

test('responses with Set-Cookie, Cache-Control: private, or a Vary beyond the key are never cached', async () => {
  for (const mode of ['cookie', 'private', 'vary']) {
    const start = await count('collapse');
    const first = await get(`/collapse/app.js?mode=${mode}`);
    const second = await get(`/collapse/app.js?mode=${mode}`);
    assert.equal(first.status, 200);
    assert.equal(second.headers['x-nodehost-cache'], 'miss', mode);
    assert.notEqual(first.text, second.text, mode);
    assert.equal(await count('collapse'), start + 2, mode);
  }
});

test('a request with Authorization bypasses the cache', async () => {
  await get('/collapse/app.js?auth=1');
  assert.equal((await get('/collapse/app.js?auth=1')).headers['x-nodehost-cache'], 'hit');
  const start = await count('collapse');
  const withAuth = await get('/collapse/app.js?auth=1', { Authorization: 'Basic dTpw' });
  assert.equal(withAuth.headers['x-nodehost-cache'], undefined);
  assert.equal(await count('collapse'), start + 1);
  assert.equal((await get('/collapse/app.js?auth=1')).headers['x-nodehost-cache'], 'hit', 'the entry was not replaced by the authorised response');
});

test('100 concurrent misses for one key reach node exactly once', async () => {
  const start = await count('collapse');
  const replies = Array.from({ length: 100 }, () => get('/collapse/app.js?hold=c100'));
  // The first request to arrive is held by the app until released: the others meet its fetch.
  await pollCount('collapse', start + 1);
  await get('/collapse/app.js?release=c100', {}, 'POST');
  const all = await Promise.all(replies);
  const results = all.map((reply) => reply.headers['x-nodehost-cache']);
  assert.ok(all.every((reply) => reply.status === 200 && reply.text === all[0]!.text));
  assert.equal(results.filter((result) => result === 'miss').length, 1);
  assert.ok(results.every((result) => result === 'miss' || result === 'collapsed' || result === 'hit'));
  assert.equal(await count('collapse'), start + 1);
});

test('an uncacheable response releases the waiters to node at once, all together', async () => {
  const start = await count('collapse');
  // The 99 others are answered by the app only once all 99 are there at the same time: if
  // the cache sent them to node one after another, none would ever be answered.
  const replies = Array.from({ length: 100 }, () => get('/collapse/app.js?hold=u100&gather=99&mode=cookie'));
  await pollCount('collapse', start + 1);
  await get('/collapse/app.js?release=u100', {}, 'POST');
  const all = await Promise.all(replies);
  assert.ok(all.every((reply) => reply.status === 200 && reply.headers['set-cookie'] !== undefined));
  assert.equal(await count('collapse'), start + 100);
});

test('CacheUntilChange: a node entry lasts until the entry script changes', async () => {
  const first = await get('/change/app.js?v=1');
  assert.equal(first.headers['x-nodehost-cache'], 'miss');
  assert.equal((await get('/change/app.js?v=1')).headers['x-nodehost-cache'], 'hit');
  const script = path.join(dir, 'change', 'app.js');
  fs.appendFileSync(script, '// changed\n');
  // The cache drops the entry as soon as the file changes, and again when the application
  // recycles (a response of the old process may have been stored in between).
  const pid = (reply: StrictReply) => /pid=(\d+)/.exec(reply.text)![1];
  const after = await poll(
    () => get('/change/app.js?v=1'),
    (reply) => reply.headers['x-nodehost-cache'] === 'miss' && pid(reply) !== pid(first),
  );
  assert.equal(after.status, 200);
  const again = await get('/change/app.js?v=1');
  assert.equal(again.headers['x-nodehost-cache'], 'hit');
  assert.equal(again.text, after.text);
});

test('CacheUntilChange: a static entry lasts until its file changes', async () => {
  const first = await get('/change/page.txt');
  assert.equal(first.text, 'first version\n');
  assert.equal((await get('/change/page.txt')).headers['x-nodehost-cache'], 'hit');
  fs.writeFileSync(path.join(dir, 'change', 'page.txt'), 'second version\n');
  const after = await poll(
    () => get('/change/page.txt'),
    (reply) => reply.text === 'second version\n',
  );
  assert.equal(after.headers['x-nodehost-cache'], 'miss');
  assert.equal((await get('/change/page.txt')).headers['x-nodehost-cache'], 'hit');
});

test('DontCache and DisableCache store nothing; DisableCache tells clients not to cache', async () => {
  for (const folder of ['nocache', 'disabled']) {
    const start = await count(folder);
    const first = await get(`/${folder}/app.js`);
    const second = await get(`/${folder}/app.js`);
    assert.notEqual(first.text, second.text, folder);
    assert.equal(second.headers['x-nodehost-cache'], undefined, folder);
    assert.equal(await count(folder), start + 2, folder);
  }
  assert.equal((await get('/disabled/app.js')).headers['cache-control'], 'no-cache');
});

test('location sets Cache-Control on a cached response that has none', async () => {
  assert.equal((await get('/timed/app.js?id=loc')).headers['cache-control'], 'public');
});

test('maxResponseSize: a larger response is not stored, whether its length is known or not', async () => {
  for (const target of ['/small/app.js?mode=big&bytes=2000', '/small/app.js?mode=big&bytes=2000&chunked']) {
    const first = await get(target);
    assert.equal(first.body.length, 2000);
    assert.equal((await get(target)).headers['x-nodehost-cache'], 'miss', target);
  }
  await get('/small/app.js?mode=big&bytes=900&chunked');
  const small = await get('/small/app.js?mode=big&bytes=900&chunked');
  assert.equal(small.headers['x-nodehost-cache'], 'hit');
  assert.equal(small.body.length, 900);
  assert.equal(small.framing, 'content-length');
});

test('staleWhileRevalidate: while one request refreshes an expired entry, the others get the stale one at once', async () => {
  const first = await get('/stale/app.js');
  assert.equal(first.headers['x-nodehost-cache'], 'miss');
  // HEAD neither fetches nor stores: it shows when the entry has expired without refreshing it.
  await poll(
    () => get('/stale/app.js', {}, 'HEAD'),
    (reply) => reply.headers['x-nodehost-cache'] === 'miss',
  );
  const before = await count('stale');
  const refreshing = get('/stale/app.js?hold=s1');
  await pollCount('stale', before + 1);
  const stale = await get('/stale/app.js');
  assert.equal(stale.headers['x-nodehost-cache'], 'stale');
  assert.equal(stale.text, first.text);
  assert.ok(Number(stale.headers.age) >= 1);
  await get('/stale/app.js?release=s1', {}, 'POST');
  const fresh = await refreshing;
  assert.equal(fresh.headers['x-nodehost-cache'], 'miss');
  const hit = await get('/stale/app.js');
  assert.equal(hit.headers['x-nodehost-cache'], 'hit');
  assert.equal(hit.text, fresh.text);
});

test('a bad caching value fails the folder (500.19) and names the file and line', async () => {
  const bad = fs.mkdtempSync(path.join(os.tmpdir(), 'nh-cache-bad-'));
  fs.writeFileSync(
    path.join(bad, 'web.config'),
    '<configuration>\n<system.webServer>\n<caching>\n<profiles>\n<add extension=".js" policy="CacheForTimePeriod" duration="30s"/>\n</profiles>\n</caching>\n</system.webServer>\n</configuration>\n',
  );
  fs.writeFileSync(path.join(bad, 'page.txt'), 'page\n');
  const badHost = await startNodehost(bad);
  try {
    // A loopback client gets iisnode's friendly configuration page (status 200, 500.19 in the log).
    const reply = await fetchStrict(badHost.url, '/page.txt');
    assert.equal(reply.headers['x-nodehost-substatus'], '19');
    assert.match(reply.text, /web\.config:5/);
    assert.match(reply.text, /duration must be a time span/);
    assert.match(badHost.stderr(), /web\.config:5:\d+: system\.webServer\/caching\/profiles\/add: duration must be a time span/);
  } finally {
    await badHost.stop();
    fs.rmSync(bad, { recursive: true, force: true });
  }
});
