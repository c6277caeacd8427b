/**
 * Global URL Rewrite rules end to end (spec/rewrite.md §1.2, §1.14): `<globalRules>` given by
 * nodehost.yml (`globalRules: <file>`) run first, on the whole URL path; the distributed rules
 * of the rewritten URL's web.config then run on their output. One real nodehost serves every
 * case; a second start checks that a malformed global rule stops `serve` with file:line.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { BIN, SITES, startNodehost, type RunningHost } from './helpers/nodehost.js';
import { fetchStrict } from './helpers/strict-http.js';

const GLOBAL_RULES = `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <system.webServer>
    <rewrite>
      <rewriteMaps>
        <rewriteMap name="ShortLinks">
          <add key="/s1" value="/new/page.txt" />
        </rewriteMap>
      </rewriteMaps>
      <globalRules>
        <rule name="Short" stopProcessing="true">
          <match url=".*" />
          <conditions><add input="{ShortLinks:{URL}}" pattern="(.+)" /></conditions>
          <action type="Rewrite" url="{C:1}" />
        </rule>
        <rule name="OldToNew">
          <match url="^old/(.*)" />
          <action type="Rewrite" url="new/{R:1}" />
        </rule>
        <rule name="AToB">
          <match url="^a/(.*)" />
          <action type="Rewrite" url="b/{R:1}" />
        </rule>
        <rule name="First">
          <match url="^first/(.*)" />
          <action type="Rewrite" url="global-first/{R:1}" />
        </rule>
        <rule name="Moved">
          <match url="^moved/(.*)" />
          <action type="Redirect" url="/new/{R:1}" redirectType="Found" />
        </rule>
        <rule name="Gone">
          <match url="^gone$" />
          <action type="CustomResponse" statusCode="410" statusReason="Gone Away" statusDescription="gone for good" />
        </rule>
        <rule name="Stop" stopProcessing="true">
          <match url="^stop/(.*)" />
          <action type="Rewrite" url="s/{R:1}" />
        </rule>
        <rule name="AfterStop">
          <match url="^s/(.*)" />
          <action type="Rewrite" url="wrong/{R:1}" />
        </rule>
        <rule name="App">
          <match url="^app/(.*)" />
          <action type="Rewrite" url="echo.js?p={R:1}" />
        </rule>
      </globalRules>
    </rewrite>
  </system.webServer>
</configuration>
`;

const webConfig = (body: string): string => `<?xml version="1.0" encoding="utf-8"?>
<configuration><system.webServer>${body}</system.webServer></configuration>
`;
const rules = (body: string): string => `<rewrite><rules>${body}</rules></rewrite>`;

/** The site: a root rule that the global rule First must pre-empt, and per-folder rules. */
const FILES: Record<string, string> = {
  'web.config': webConfig(
    '<handlers><add name="global-echo" path="echo.js" verb="*" modules="iisnode" /></handlers>' +
      '<iisnode loggingEnabled="false" />' +
      rules('<rule name="RootFirst" stopProcessing="true"><match url="^first/(.*)" /><action type="Rewrite" url="/dist-won.txt" /></rule>'),
  ),
  'new/page.txt': 'new page',
  'new/x.txt': 'new x',
  'dist-won.txt': 'distributed won',
  'global-first/y.txt': 'global first',
  // Rules of /old/ must not run for /old/... once a global rule sent it to /new/.
  'old/web.config': webConfig(rules('<rule name="OldDist"><match url=".*" /><action type="CustomResponse" statusCode="418" /></rule>')),
  'b/web.config': webConfig(rules('<rule name="BDist"><match url="^x$" /><action type="Rewrite" url="dist.txt" /></rule>')),
  'b/dist.txt': 'b distributed',
  's/web.config': webConfig(rules('<rule name="SDist"><match url="^(.*)\\.txt$" /><action type="Rewrite" url="dist-{R:1}.txt" /></rule>')),
  's/dist-y.txt': 's distributed',
  'wrong/y.txt': 'wrong: a rule after a stopProcessing global rule ran',
};

let dir = '';
let host: RunningHost;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'nodehost-global-'));
  const site = path.join(dir, 'site');
  mkdirSync(site);
  cpSync(path.join(SITES, 'rewrite', 'echo.js'), path.join(site, 'echo.js'));
  for (const [name, text] of Object.entries(FILES)) {
    mkdirSync(path.dirname(path.join(site, name)), { recursive: true });
    writeFileSync(path.join(site, name), text);
  }
  mkdirSync(path.join(dir, 'conf'));
  writeFileSync(path.join(dir, 'conf', 'global.config'), GLOBAL_RULES);
  writeFileSync(path.join(dir, 'nodehost.yml'), 'root: site\nlogs: ""\nglobalRules: conf/global.config\n');
  host = await startNodehost('', { args: ['--config', path.join(dir, 'nodehost.yml')] });
});

after(async () => {
  await host?.stop();
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

async function text(target: string): Promise<string> {
  const reply = await fetchStrict(host.url, target);
  assert.equal(reply.status, 200, `${target}: ${reply.status} ${reply.text.slice(0, 300)}`);
  return reply.text;
}

describe('global rules from nodehost.yml', () => {
  test('a global Rewrite sends /old/* to /new/*; the rules of /old/web.config do not run', async () => {
    assert.equal(await text('/old/page.txt'), 'new page');
    assert.equal(await text('/OLD/x.txt'), 'new x');
    assert.equal(await text('/new/page.txt'), 'new page');
  });

  test('a global rule may use the rewrite maps written beside it', async () => {
    assert.equal(await text('/s1'), 'new page');
  });

  test('global rules run before the distributed rules, which come from the rewritten URL and read its output', async () => {
    // /a/x: no rules of its own; the global rule makes it /b/x, whose web.config maps x to dist.txt.
    assert.equal(await text('/a/x'), 'b distributed');
    // The root rule RootFirst would match /first/..., but the global rule First ran first.
    assert.equal(await text('/first/y.txt'), 'global first');
  });

  test('a global Redirect answers at once, with an absolute Location', async () => {
    const reply = await fetchStrict(host.url, '/moved/page.txt?k=v');
    assert.equal(reply.status, 302);
    assert.equal(reply.headers.location, `${host.url}/new/page.txt?k=v`);
  });

  test('a global CustomResponse answers with its status, reason and description', async () => {
    const reply = await fetchStrict(host.url, '/gone');
    assert.equal(reply.status, 410);
    assert.equal(reply.text, 'gone for good');
    const raw = await rawStatusLine('/gone');
    assert.equal(raw, 'HTTP/1.1 410 Gone Away');
  });

  test('stopProcessing in a global rule ends the global pass only: the distributed rules still run', async () => {
    // Stop: /stop/y.txt -> /s/y.txt; AfterStop (global) is skipped; SDist of /s/web.config gives dist-y.txt.
    assert.equal(await text('/stop/y.txt'), 's distributed');
  });

  test('node sees the original URL and X-Original-URL after a global Rewrite', async () => {
    const echo = JSON.parse(await text('/app/z?q=1')) as { url: string; headers: Record<string, string> };
    assert.equal(echo.url, '/app/z?q=1');
    assert.equal(echo.headers['x-original-url'], '/app/z?q=1');
  });
});

describe('a malformed global rule', () => {
  test('makes serve exit 1 naming nodehost.yml:line and the rule', async () => {
    const bad = path.join(dir, 'bad');
    mkdirSync(bad);
    mkdirSync(path.join(bad, 'site'));
    const yml = path.join(bad, 'nodehost.yml');
    writeFileSync(
      yml,
      [
        'root: site',
        'globalRules: |',
        '  <globalRules>',
        '    <rule name="Fine"><match url="^a$" /><action type="Rewrite" url="b" /></rule>',
        '    <rule name="Broken"><match url="([a-z" /><action type="Rewrite" url="c" /></rule>',
        '  </globalRules>',
        '',
      ].join('\n'),
    );
    const child = spawn(process.execPath, [BIN, 'serve', '--config', yml, '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const [code] = (await once(child, 'exit')) as [number | null];
    assert.equal(code, 1, `stdout: ${stdout}\nstderr: ${stderr}`);
    assert.doesNotMatch(stdout, /listening/);
    assert.ok(stderr.includes(`${yml}:5`), stderr);
    assert.match(stderr, /Rule 'Broken'/);
    assert.match(stderr, /NH_ERR_REWRITE_RULE/);
  });
});

test('nodehost check --config reports a malformed global rule with file:line and exits 1', async () => {
  const yml = path.join(dir, 'check.yml');
  writeFileSync(yml, 'root: site\nglobalRules: \'<globalRules><rule name="Bad"><action type="Teleport"/></rule></globalRules>\'\n');
  const child = spawn(process.execPath, [BIN, 'check', '--config', yml], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stdout.resume();
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const [code] = (await once(child, 'exit')) as [number | null];
  assert.equal(code, 1, stderr);
  assert.ok(stderr.includes(`${yml}:2`), stderr);
  assert.match(stderr, /Rule 'Bad'/);
});

/** rawStatusLine reads the status line as sent (node's client does not expose the reason phrase verbatim in every version). */
async function rawStatusLine(target: string): Promise<string> {
  const { connect } = await import('node:net');
  const url = new URL(host.url);
  const socket = connect(Number(url.port), url.hostname);
  socket.setEncoding('utf8');
  await once(socket, 'connect');
  socket.write(`GET ${target} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: close\r\n\r\n`);
  let data = '';
  for await (const chunk of socket) data += chunk as string;
  return data.split('\r\n')[0]!;
}
