import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { checkSite, formatCheckReport } from './check.js';

function site(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'nodehost-check-'));
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(root, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  return root;
}

test('finds applications through literal and wildcard iisnode mappings, in scope only', () => {
  const root = site({
    'web.config': `<configuration><system.webServer>
  <handlers><add name="iisnode" path="hello.js" verb="*" modules="iisnode"/></handlers>
  <iisnode loggingEnabled="false"/>
</system.webServer></configuration>`,
    'hello.js': '',
    'client.js': '',
    'api/web.config':
      '<configuration><system.webServer><handlers><add name="njs" path="*.njs" verb="*" modules="iisnode"/></handlers></system.webServer></configuration>',
    'api/a.njs': '',
    'api/deep/b.njs': '',
    'api/node_modules/c.njs': '',
    'other/d.njs': '',
    'bin/web.config':
      '<configuration><system.webServer><handlers><add name="www" path="bin/www" verb="*" modules="iisnode"/></handlers></system.webServer></configuration>',
    'bin/bin/www': '',
    'static/web.config':
      '<configuration><system.webServer><handlers><add name="static" path="hello.js" verb="*" modules="StaticFileModule"/></handlers></system.webServer></configuration>',
    'static/hello.js': '',
  });
  const report = checkSite(root, {});
  assert.deepEqual(report.errors, []);
  assert.deepEqual(report.apps.map((app) => app.url).sort(), ['/api/a.njs', '/api/deep/b.njs', '/bin/bin/www', '/hello.js']);
  const hello = report.apps.find((app) => app.url === '/hello.js');
  assert.equal(hello?.scriptPath, path.join(root, 'hello.js'));
  assert.equal(hello?.settings.loggingEnabled, false);
  assert.equal(hello?.origins.loggingEnabled.kind, 'web.config');
});

test('the report lists errors as file:line: message [CODE] and marks where non-default values come from', () => {
  const root = site({
    'web.config': `<configuration>
<system.webServer>
  <handlers><add name="iisnode" path="hello.js" verb="*" modules="iisnode"/></handlers>
  <iisnode maxLogFiles="3"/>
</system.webServer>
</configuration>`,
    'hello.js': '',
    'iisnode.yml': '\nnodeProcessCountPerApplication: 2\n',
    'broken/web.config': '<configuration>\n<system.webServer>\n<iisnode idontexist="12"/>\n</system.webServer>\n</configuration>',
  });
  const report = checkSite(root, { IISNODE_enableXFF: '1', IISNODE_flushResponse: 'maybe' });
  assert.deepEqual(report.errors.map((e) => e.code).sort(), ['NH_ERR_CONFIG_ENV', 'NH_ERR_CONFIG_UNKNOWN_ATTRIBUTE']);
  const text = formatCheckReport(report);
  assert.ok(text.includes(`${path.join(root, 'broken', 'web.config')}:3: Unknown attribute 'idontexist'`), text);
  assert.match(text, /\[NH_ERR_CONFIG_UNKNOWN_ATTRIBUTE\]/);
  assert.match(text, /IISNODE_flushResponse.*\[NH_ERR_CONFIG_ENV\]/);
  assert.match(text, /^ {2}\/hello\.js$/m);
  assert.ok(text.includes(`maxLogFiles`) && text.includes(`= 3   <- ${path.join(root, 'web.config')}:4`), text);
  assert.match(text, /nodeProcessCountPerApplication += 2 {3}<- .*iisnode\.yml:2/);
  assert.match(text, /enableXFF += true {3}<- environment variable IISNODE_enableXFF/);
  assert.match(text, /loggingEnabled += true$/m);
  assert.match(text, /FAILED: 2 error\(s\)\n$/);
  assert.match(text, /errors: 1 \(requests to the application fail/);
});

test('a clean site reports OK', () => {
  const root = site({ 'index.html': '' });
  const report = checkSite(root, {});
  assert.deepEqual(report.apps, []);
  assert.match(formatCheckReport(report), /node applications: 0\nOK\n$/);
});

test('a mimeMap repeating a built-in entry is accepted (the later entry wins) with a warning naming the file, line and extension', () => {
  const root = site({
    'web.config':
      '<configuration><system.webServer><staticContent>\n<mimeMap fileExtension=".json" mimeType="text/x-json"/>\n</staticContent></system.webServer></configuration>',
    'sub/web.config':
      '<configuration><location path="deep"><system.webServer><staticContent>\n\n<mimeMap fileExtension=".css" mimeType="text/x-css"/></staticContent></system.webServer></location></configuration>',
  });
  const report = checkSite(root, {});
  assert.deepEqual(report.errors, []);
  assert.deepEqual(
    report.warnings.map((w) => [w.source.file, w.source.line]),
    [
      [path.join(root, 'web.config'), 2],
      [path.join(root, 'sub', 'web.config'), 3],
    ],
  );
  assert.match(report.warnings[0]!.message, /'\.json'/);
  assert.match(report.warnings[0]!.message, /<remove fileExtension="\.json"\/>/);
  const text = formatCheckReport(report);
  assert.ok(text.includes(`warnings: 2\n  ${path.join(root, 'web.config')}:2: `), text);
  assert.match(text, /\nOK\n$/);
});
