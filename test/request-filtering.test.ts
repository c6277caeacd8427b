/**
 * Request filtering end to end (spec/rewrite.md §2.6): requestLimits, headerLimits, verbs,
 * file extensions, double escaping and denied sequences, inherited and overridden per folder.
 * Each pair shows the same file served when the filter does not apply, so a 404 can only
 * come from the filter.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fetchRaw, SITES, startNodehost, type RequestOptions, type RunningHost } from './helpers/nodehost.js';

let host: RunningHost;

before(async () => {
  host = await startNodehost(`${SITES}rewrite-filtering`);
});

after(async () => {
  await host?.stop();
});

const cases: [string, RequestOptions, number][] = [
  ['/page.txt', {}, 200],
  // requestLimits
  ['/page.txt', { method: 'POST', body: '0123456789' }, 405],
  ['/page.txt', { method: 'POST', body: '0123456789A' }, 413],
  ['/page.txt?' + 'q'.repeat(20), {}, 200],
  ['/page.txt?' + 'q'.repeat(21), {}, 404],
  ['/' + 'a'.repeat(60), {}, 404],
  ['/page.txt', { headers: { 'x-big': '12345' } }, 200],
  ['/page.txt', { headers: { 'x-big': '123456' } }, 431],
  // verbs
  ['/page.txt', { method: 'DELETE' }, 404],
  ['/strict/page.txt', { method: 'HEAD' }, 404],
  ['/strict/page.txt', {}, 200],
  // fileExtensions: listed, inherited, removed in a child, allowUnlisted="false"
  ['/x.json', {}, 404],
  ['/loose/x.json', {}, 200],
  ['/x.config', {}, 404],
  ['/strict/page.html', {}, 404],
  // double escaping
  ['/loose/a+b.txt', {}, 200],
  ['/page.txt+', {}, 404],
  ['/page%2541.txt', {}, 404],
  // denied sequences
  ['/evil.txt', {}, 404],
  ['/loose/evil.txt', {}, 200],
  ['/page.txt?x=drop%20table', {}, 404],
  ['/page.txt?x=drop+table', {}, 404],
  ['/page.txt?x=table', {}, 200],
];

test('request filtering answers each request with the IIS status', async () => {
  for (const [target, options, status] of cases) {
    const reply = await fetchRaw(host.url, target, options);
    assert.equal(reply.status, status, `${options.method ?? 'GET'} ${target} ${JSON.stringify(options.headers ?? {})}`);
  }
});
