/**
 * What a plain site never loads (docs/performance.md, start-up and idle memory): a host that
 * serves a node app and static files over http, and is not scraped, loads no metrics library
 * (prom-client, until /metrics is asked for), no ACME client (acme-client, node-forge), no
 * bcrypt, none of node's TLS and HTTP/2 modules (node:tls, node:https, node:http2: they
 * come with the first https listener, certificate or https proxy target), and, started
 * without a nodehost.yml, no YAML parser; nor the code of the other commands (the admin API
 * client of `status` and `recycle`, the rewrite tracer, the file editors of `config`, the
 * migration check, the systemd unit writer), and no debugger until a debugger URL is asked
 * for. The host runs with
 * a preload that lists every module it loads (helpers/module-trace.mjs); a scrape then shows
 * the list does catch a lazy load.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { controlPaths } from '../src/control/paths.js';
import { BIN, SITES, startNodehost, type RunningHost } from './helpers/nodehost.js';
import { parsePrometheus, sum } from './helpers/prometheus.js';
import { fetchStrict } from './helpers/strict-http.js';

const TRACE_HOOK = fileURLToPath(new URL('./helpers/module-trace.mjs', import.meta.url));
const DIR = mkdtempSync(join(tmpdir(), 'nodehost-lazy-modules-'));
const SITE = join(DIR, 'main');
const TRACE = join(DIR, 'modules.txt');

after(() => rmSync(DIR, { recursive: true, force: true }));

/** loaded is the list of module URLs the host has loaded so far. */
function loaded(): string[] {
  return readFileSync(TRACE, 'utf8').split('\n').filter(Boolean);
}

function isLoaded(modules: readonly string[], what: string): boolean {
  return modules.some((url) => url === `node:${what}` || url.includes(`/node_modules/${what}/`));
}

/** scrape reads /metrics on the site's control socket. */
function scrape(): Promise<{ status: number | undefined; contentType: string | undefined; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath: controlPaths(SITE).socketPath, path: '/metrics', agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode, contentType: res.headers['content-type'], text }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('modules a plain site never loads', () => {
  let host: RunningHost;

  before(async () => {
    cpSync(join(SITES, 'main'), SITE, { recursive: true });
    writeFileSync(TRACE, '');
    host = await startNodehost(SITE, {
      command: [process.execPath, '--import', TRACE_HOOK, BIN],
      env: { NODEHOST_TEST_MODULE_TRACE: TRACE },
      waitFor: /control socket/,
    });
  });

  after(async () => {
    await host?.stop();
  });

  test('serving requests loads no metrics, ACME, bcrypt, TLS, HTTP/2 or YAML module', async () => {
    assert.equal((await fetchStrict(host.url, '/hello.js')).status, 200);
    const modules = loaded();
    // The trace works: it holds the host's own modules and the packages every site uses.
    assert.ok(modules.some((url) => url.endsWith('/dist/cli/main.js')));
    assert.ok(isLoaded(modules, 'saxes'));
    // Built-ins are listed whether imported or required: node:http is loaded, by either.
    assert.ok(isLoaded(modules, 'http'));
    for (const what of ['prom-client', 'acme-client', 'node-forge', 'bcryptjs', 'tls', 'https', 'http2', 'yaml']) {
      assert.equal(isLoaded(modules, what), false, `${what} was loaded`);
    }
    for (const file of [
      'control/control-client.js',
      'cli/status-table.js',
      'modules/url-rewrite/rewrite-trace.js',
      'config/web-config-edit.js',
      'config/iisnode-yml-edit.js',
      'config/migration-check.js',
      'cli/systemd-unit.js',
      'iisnode/debugger/debugger-host.js',
    ]) {
      assert.equal(
        modules.some((url) => url.endsWith(`/dist/${file}`)),
        false,
        `${file} was loaded`,
      );
    }
  });

  test('the first /metrics scrape loads prom-client and counts the requests already served', async () => {
    assert.equal((await fetchStrict(host.url, '/hello.js')).status, 200);
    // A response is counted once it has closed: scrape until both are (each scrape waits for its answer).
    const deadline = Date.now() + 20_000;
    for (;;) {
      const scraped = await scrape();
      assert.equal(scraped.status, 200);
      assert.equal(scraped.contentType, 'text/plain; version=0.0.4; charset=utf-8');
      const { types, samples } = parsePrometheus(scraped.text);
      assert.equal(types.get('nodehost_requests_total'), 'counter');
      if (sum(samples, 'nodehost_requests_total', { status_class: '2xx' }) === 2) break;
      assert.ok(Date.now() < deadline, 'the two requests were not counted within 20 s');
    }
    assert.equal(isLoaded(loaded(), 'prom-client'), true);
  });

  test('the first debugger URL loads the debugger, which answers', async () => {
    const reply = await fetchStrict(host.url, '/hello.js/debug/?kill');
    assert.equal(reply.status, 200);
    assert.equal(reply.body.toString(), 'The debugger for the application is not running.');
    assert.ok(loaded().some((url) => url.endsWith('/dist/iisnode/debugger/debugger-host.js')));
  });
});
