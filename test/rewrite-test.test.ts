// `nodehost rewrite test`: the URL Rewrite tracer, on the Kudu template and on a site with
// redirects, captures, server variables and a custom response; a site named by nodehost.yml,
// with a URL path of its application (`shop/node`).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { BIN, SITES } from './helpers/nodehost.js';

const run = promisify(execFile);

interface Trace {
  request: { url: string };
  passes: {
    kind: string;
    rules: {
      name: string;
      isMatch: boolean;
      input: string;
      ruleCaptures: string[];
      conditionCaptures: string[];
      conditions: { input: string; value: string; isMatch: boolean }[];
      serverVariables: { name: string; value: string }[];
      outcome: string;
      urlAfter: string;
      source: string;
    }[];
  }[];
  result: { kind: string; url?: string; status?: number; location?: string; substatus?: number };
  requestHeaders: Record<string, string>;
  responseHeaders: Record<string, string>;
}

async function trace(site: string, url: string, ...args: string[]): Promise<Trace> {
  const { stdout } = await run(process.execPath, [BIN, 'rewrite', 'test', SITES + site, url, '--json', ...args]);
  return JSON.parse(stdout) as Trace;
}

function rule(t: Trace, name: string) {
  const found = t.passes.flatMap((pass) => pass.rules).find((r) => r.name === name);
  assert.ok(found, `rule ${name} is in the trace`);
  return found;
}

describe('nodehost rewrite test on the Kudu template', () => {
  test('a static file under public/ is rewritten there and DynamicContent does not match', async () => {
    const t = await trace('rewrite-kudu', '/css/site.css');
    assert.deepEqual(t.result, { kind: 'rewrite', url: '/public/css/site.css' });
    assert.equal(rule(t, 'NodeInspector').isMatch, false);
    assert.equal(rule(t, 'StaticContent').outcome, 'rewrite');
    const dynamic = rule(t, 'DynamicContent');
    assert.equal(dynamic.isMatch, false);
    assert.equal(dynamic.input, 'public/css/site.css', 'the rule sees the URL the previous rule produced');
    assert.equal(dynamic.conditions[0]!.input, '{REQUEST_FILENAME}');
    assert.equal(dynamic.conditions[0]!.value, join(SITES, 'rewrite-kudu/public/css/site.css'));
    assert.match(rule(t, 'StaticContent').source, /rewrite-kudu\/web\.config:14$/);
  });

  test('a missing file goes to server.js', async () => {
    const t = await trace('rewrite-kudu', '/no/such/file.txt');
    assert.deepEqual(t.result, { kind: 'rewrite', url: '/server.js' });
    assert.equal(rule(t, 'DynamicContent').isMatch, true);
    assert.equal(t.requestHeaders['x-original-url'], '/no/such/file.txt');
  });

  test('a /node_modules/ URL is not under public/, so it goes to server.js too', async () => {
    const t = await trace('rewrite-kudu', '/node_modules/express/package.json');
    assert.deepEqual(t.result, { kind: 'rewrite', url: '/server.js' });
  });

  test('the human-readable trace names each rule with file:line and the result', async () => {
    const { stdout } = await run(process.execPath, [BIN, 'rewrite', 'test', SITES + 'rewrite-kudu', '/css/site.css']);
    assert.match(stdout, /rule "StaticContent" \(web\.config:14\): MATCH/);
    assert.match(stdout, /rule "DynamicContent" \(web\.config:17\): no match/);
    assert.match(stdout, /\{REQUEST_FILENAME\} = ".*public\/css\/site\.css" not IsFile: false/);
    assert.match(stdout, /result: rewritten to \/public\/css\/site\.css/);
  });
});

describe('nodehost rewrite test: actions and captures', () => {
  test('a redirect by a condition capture {C:1} and a rule capture {R:1}', async () => {
    const t = await trace('rewrite-trace', 'http://www.example.com/a/b?q=1');
    assert.deepEqual(t.result, { kind: 'redirect', status: 301, location: 'https://example.com/a/b?q=1' });
    const canonical = rule(t, 'CanonicalHost');
    assert.deepEqual(canonical.ruleCaptures, ['a/b', 'a/b']);
    assert.deepEqual(canonical.conditionCaptures, ['www.example.com', 'example.com']);
    assert.equal(t.passes[0]!.rules.length, 1, 'a redirect ends the pass');
  });

  test('a redirect from rule captures, 302', async () => {
    const t = await trace('rewrite-trace', '/blog/2019/hello?x=1');
    assert.deepEqual(t.result, { kind: 'redirect', status: 302, location: 'http://localhost/articles/hello?year=2019' });
    assert.deepEqual(rule(t, 'OldBlog').ruleCaptures, ['blog/2019/hello', '2019', 'hello']);
  });

  test('a rewrite using a header condition capture, with server variables set', async () => {
    const t = await trace('rewrite-trace', '/api/items', '--header', 'X-Api-Version: v2', '--method', 'post');
    assert.deepEqual(t.result, { kind: 'rewrite', url: '/v2/items' });
    const api = rule(t, 'ApiVersion');
    assert.deepEqual(
      api.conditions.map((c) => [c.input, c.value, c.isMatch]),
      [['{HTTP_X_API_VERSION}', 'v2', true]],
    );
    assert.deepEqual(api.conditionCaptures, ['v2', '2']);
    assert.deepEqual(api.serverVariables, [
      { name: 'HTTP_X_VERSION', value: '2' },
      { name: 'RESPONSE_X_TRACED', value: 'yes' },
    ]);
    assert.equal(t.requestHeaders['x-version'], '2');
    assert.equal(t.responseHeaders['X-TRACED'], 'yes');
    assert.equal(rule(t, 'Blocked').input, 'v2/items');
  });

  test('a custom response', async () => {
    const t = await trace('rewrite-trace', '/private/x');
    assert.equal(t.result.kind, 'response');
    assert.equal(t.result.status, 403);
    assert.equal(t.result.substatus, 1);
  });

  test('global rules of --config run first', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'nh-rwt-'));
    writeFileSync(
      join(dir, 'nodehost.yml'),
      `globalRules: |\n  <rule name="G" stopProcessing="true"><match url="^legacy/(.*)" /><action type="Rewrite" url="/api/{R:1}" /></rule>\n`,
    );
    const t = await trace('rewrite-trace', '/legacy/things', '--config', join(dir, 'nodehost.yml'), '--header', 'X-Api-Version: v3');
    assert.deepEqual(
      t.passes.map((p) => p.kind),
      ['global', 'distributed'],
    );
    assert.deepEqual(t.result, { kind: 'rewrite', url: '/v3/things' });
  });
});

describe('nodehost rewrite test <site> named in nodehost.yml', () => {
  // The long form: shop, with a /node application in a folder of its own, and blog.
  const dir = mkdtempSync(join(tmpdir(), 'nh-rwt-sites-'));
  const yml = join(dir, 'nodehost.yml');
  after(() => rmSync(dir, { recursive: true, force: true }));
  for (const folder of ['shop', 'node-app', 'blog']) mkdirSync(join(dir, folder));
  writeFileSync(
    yml,
    [
      'sites:',
      '  - name: shop',
      '    root: shop',
      '    bindings: ["http://shop.test:8080"]',
      '    applications:',
      '      - { path: /node, root: node-app }',
      '  - name: blog',
      '    root: blog',
      '    bindings: ["http://blog.test:8080"]',
      '',
    ].join('\n'),
  );
  const rules = (rule: string) => `<configuration><system.webServer><rewrite><rules>${rule}</rules></rewrite></system.webServer></configuration>`;
  writeFileSync(join(dir, 'shop', 'web.config'), rules('<rule name="ShopOld"><match url="^old/(.*)" /><action type="Rewrite" url="new/{R:1}" /></rule>'));
  writeFileSync(
    join(dir, 'node-app', 'web.config'),
    rules(
      '<rule name="NodeFallback"><match url="(.*)" /><conditions><add input="{REQUEST_FILENAME}" matchType="IsFile" negate="true" /></conditions><action type="Rewrite" url="hello.js" /></rule>',
    ),
  );
  writeFileSync(join(dir, 'node-app', 'hello.js'), '');
  writeFileSync(join(dir, 'blog', 'web.config'), rules(''));

  async function traceIn(cwd: string, ...args: string[]): Promise<Trace> {
    const { stdout } = await run(process.execPath, [BIN, 'rewrite', 'test', ...args, '--json'], { cwd });
    return JSON.parse(stdout) as Trace;
  }

  test("shop/node with --config: the URL is below /node, mapped to the application's folder and traced with its rules", async () => {
    const t = await traceIn(tmpdir(), 'shop/node', '/missing', '--config', yml);
    assert.equal(t.request.url, '/node/missing');
    const fallback = rule(t, 'NodeFallback');
    assert.equal(fallback.input, 'missing');
    assert.equal(fallback.conditions[0]!.value, join(dir, 'node-app', 'missing'), '{REQUEST_FILENAME} is in the /node application');
    assert.deepEqual(t.result, { kind: 'rewrite', url: '/node/hello.js' });
    const present = await traceIn(tmpdir(), 'shop/node', '/hello.js', '--config', yml);
    assert.deepEqual(present.result, { kind: 'unchanged', url: '/node/hello.js' }, 'the file exists in the application folder');
  });

  test('without --config a site name is looked up in ./nodehost.yml, and each site runs its own rules', async () => {
    assert.deepEqual((await traceIn(dir, 'shop', '/old/page')).result, { kind: 'rewrite', url: '/new/page' });
    const blog = await traceIn(dir, 'blog', '/old/page');
    assert.deepEqual(blog.result, { kind: 'unchanged', url: '/old/page' });
    assert.equal(
      blog.passes.flatMap((pass) => pass.rules).some((r) => r.name === 'ShopOld'),
      false,
    );
  });

  test('a name that is no site and no folder exits 1 naming it', async () => {
    const result = await run(process.execPath, [BIN, 'rewrite', 'test', 'cafe', '/x'], { cwd: dir }).catch((err) => err);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /no site named 'cafe' in nodehost\.yml and no such site folder \[NH_ERR_CONFIG_EDIT\]/);
  });
});

describe('nodehost rewrite test: exit codes', () => {
  test('1 with file:line when the site configuration has errors', async () => {
    const result = await run(process.execPath, [BIN, 'rewrite', 'test', SITES + 'rewrite-trace-broken', '/x']).catch((err) => err);
    assert.equal(result.code, 1);
    assert.match(result.stderr, /rewrite-trace-broken\/web\.config:7:\d+: Rule 'Bad'/);
  });

  test('2 on usage errors', async () => {
    for (const args of [['/x', '--header', 'nocolon'], ['not-a-url'], []]) {
      const result = await run(process.execPath, [BIN, 'rewrite', 'test', SITES + 'rewrite-trace', ...args]).catch((err) => err);
      assert.equal(result.code, 2, args.join(' '));
      assert.match(result.stderr, /NH_ERR_CLI_USAGE/);
    }
  });
});
