/**
 * Hostile paths: traversal in every spelling, encoded separators, double and overlong
 * encodings, NUL, very long paths, case variants and Windows spellings (trailing dots and
 * spaces, `::$DATA`) of hidden names, and web.config reached through a rewrite. Each gets a
 * clear 400 or 404 without a byte of the private files, and none reaches the app.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RawConnection } from '../helpers/raw-http.js';
import { fetchStrict } from '../helpers/strict-http.js';
import { startHardeningHost, type HardeningHost } from './hardening-host.js';

/** [target, status]: the site holds web.config, bin/secret.txt, App_Data/db.txt and public.txt; /r/* is rewritten to /*. */
const TARGETS: [string, number][] = [
  ['/../web.config', 400],
  ['/%2e%2e/web.config', 400],
  ['/.%2e/web.config', 400],
  ['/%2E%2E%2Fweb.config', 400],
  ['/a/..%2f..%2fweb.config', 400],
  ['/../../../../etc/passwd', 400],
  ['/%2e%2e/%2e%2e/%2e%2e/etc/passwd', 400],
  ['/%u002e%u002e/web.config', 400],
  ['/raw.js/..%2f..%2fweb.config', 400],
  ['/web.config%00', 400],
  ['/web.config%00.txt', 400],
  ['/%252e%252e/web.config', 404],
  ['/..%5cweb.config', 404],
  ['/%5cweb.config', 404],
  ['/%c0%ae%c0%ae/web.config', 400],
  ['/%c0%afweb.config', 400],
  ['/web.config', 404],
  ['/WEB.CONFIG', 404],
  ['/Web.Config', 404],
  ['/web.config.', 404],
  ['/web.config%20', 404],
  ['/web.config::$DATA', 404],
  ['/bin/secret.txt', 404],
  ['/BIN/secret.txt', 404],
  ['/Bin./secret.txt', 404],
  ['/bin%2fsecret.txt', 404],
  ['/bin%5csecret.txt', 404],
  ['/bin;/secret.txt', 404],
  ['/app_data/db.txt', 404],
  ['/App_Data./db.txt', 404],
  ['/app.js/../web.config', 404],
  ['/app.js%2f..%2fweb.config', 404],
  ['/r/web.config', 404],
  ['/r/WEB.config', 404],
  ['/r/bin/secret.txt', 404],
  ['/r/..%2fweb.config', 404],
  ['/r/%2e%2e/web.config', 404],
  ['/public.txt.', 404],
  ['/public.txt%20', 404],
  [`/${'a/'.repeat(4000)}`, 404],
  [`/${'%2e%2e/'.repeat(2000)}`, 400],
];

describe('hostile paths', () => {
  let host: HardeningHost;

  before(async () => {
    host = await startHardeningHost();
  });

  after(async () => {
    assert.equal(await host.close(), 0);
  });

  test('each gets its 400 or 404 and none of the private bytes', async () => {
    for (const [target, status] of TARGETS) {
      const reply = await fetchStrict(host.url, target);
      assert.equal(reply.status, status, target);
      assert.doesNotMatch(reply.text, /SECRET|root:|<configuration/, target);
    }
    assert.equal((await fetchStrict(host.url, '/public.txt')).status, 200);
  });

  test('a path longer than the head limit is 414', async () => {
    const connection = await RawConnection.open(host.port);
    try {
      await connection.write(`GET /${'a/'.repeat(9000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      assert.equal((await connection.read()).status, 414);
    } finally {
      connection.close();
    }
  });

  test('none of them reached the app', async () => {
    const seen = (await host.seen()).seen.map((r) => r.url);
    assert.deepEqual(
      seen.filter((url) => /web\.config|secret|passwd|db\.txt/i.test(url)),
      [],
    );
  });
});
