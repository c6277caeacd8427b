import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { SiteConfig } from './site-config.js';

/** Writes a site: keys are paths relative to the root, values file contents. */
function site(files: Record<string, string>): string {
  const root = mkdtempSync(path.join(tmpdir(), 'nodehost-site-'));
  for (const [name, content] of Object.entries(files)) {
    const file = path.join(root, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, content);
  }
  return root;
}

function webConfig(systemWebServer: string, rest = ''): string {
  return `<?xml version="1.0" encoding="utf-8"?>\n<configuration>\n<system.webServer>\n${systemWebServer}\n</system.webServer>\n${rest}\n</configuration>\n`;
}

const IISNODE_HANDLER = '<handlers><add name="iisnode" path="hello.js" verb="*" modules="iisnode"/></handlers>';

test('a site without web.config gets the built-in base', () => {
  const config = SiteConfig.load(site({ 'index.html': 'x' }), {});
  assert.deepEqual(config.files, []);
  assert.deepEqual(config.errors, []);
  const folder = config.forPath('/');
  assert.deepEqual(folder.handlers, []);
  assert.deepEqual(folder.defaultDocument, { enabled: true, files: ['Default.htm', 'Default.asp', 'index.htm', 'index.html', 'iisstart.htm', 'default.aspx'] });
  assert.equal(folder.mimeMap.get('.js'), 'application/javascript');
  assert.equal(folder.mimeMap.get('.json'), 'application/json');
  assert.equal(folder.mimeMap.get('.woff2'), 'application/font-woff2');
  for (const ext of ['.yml', '.yaml', '.config', '.ts']) assert.equal(folder.mimeMap.has(ext), false, ext);
  assert.ok(folder.mimeMap.size >= 100);
  assert.deepEqual([...folder.hiddenSegments].sort(), [
    'app_browsers',
    'app_code',
    'app_data',
    'app_globalresources',
    'app_localresources',
    'app_webreferences',
    'bin',
    'web.config',
  ]);
  assert.equal(folder.iisnode.nodeProcessCountPerApplication, 1);
  assert.deepEqual(folder.errors, []);
  assert.ok(Object.isFrozen(folder));
  assert.ok(Object.isFrozen(folder.handlers));
  assert.ok(Object.isFrozen(folder.iisnode));
});

test('handlers and default documents of a deeper file come first; other collections append', () => {
  const root = site({
    'web.config': webConfig(
      `<handlers><add name="root" path="*.js" verb="*" modules="iisnode"/></handlers>
      <defaultDocument><files><add value="root.js"/></files></defaultDocument>
      <staticContent><mimeMap fileExtension=".md" mimeType="text/markdown"/></staticContent>
      <security><requestFiltering><hiddenSegments><add segment="secret"/></hiddenSegments></requestFiltering></security>`,
      '<appSettings><add key="A" value="root"/></appSettings>',
    ),
    'sub/web.config': webConfig(
      `<handlers><add name="sub1" path="a.js" verb="*" modules="iisnode"/><add name="sub2" path="b.js" verb="*" modules="iisnode"/></handlers>
      <defaultDocument><files><add value="sub.js"/></files></defaultDocument>
      <staticContent><mimeMap fileExtension=".yml" mimeType="text/yaml"/></staticContent>
      <security><requestFiltering><hiddenSegments><add segment="private"/></hiddenSegments></requestFiltering></security>`,
      '<appSettings><add key="B" value="sub"/><add key="A" value="sub"/></appSettings>',
    ),
  });
  const config = SiteConfig.load(root, {});
  assert.deepEqual(config.errors, []);
  assert.deepEqual(config.files, [path.join(root, 'web.config'), path.join(root, 'sub', 'web.config')]);
  const sub = config.forPath('/sub/x.js');
  assert.deepEqual(
    sub.handlers.map((h) => h.name),
    ['sub1', 'sub2', 'root'],
  );
  assert.deepEqual(
    sub.handlers.map((h) => h.scope),
    ['/sub/', '/sub/', '/'],
  );
  assert.deepEqual(sub.defaultDocument.files.slice(0, 3), ['sub.js', 'root.js', 'Default.htm']);
  assert.equal(sub.mimeMap.get('.md'), 'text/markdown');
  assert.equal(sub.mimeMap.get('.yml'), 'text/yaml');
  assert.deepEqual([...sub.hiddenSegments].slice(-2), ['secret', 'private']);
  assert.deepEqual(sub.appSettings, [
    ['A', 'root'],
    ['B', 'sub'],
    ['A', 'sub'],
  ]);
  const top = config.forPath('/other/');
  assert.deepEqual(
    top.handlers.map((h) => h.name),
    ['root'],
  );
  assert.equal(top.mimeMap.has('.yml'), false);
});

test('remove of a missing key is fine; remove then add replaces; clear drops inherited entries', () => {
  const root = site({
    'web.config':
      webConfig(`<handlers><add name="one" path="*.js" verb="*" modules="iisnode"/><add name="two" path="*.njs" verb="*" modules="iisnode"/></handlers>
      <security><requestFiltering><hiddenSegments><remove segment="bin"/><remove segment="never-there"/></hiddenSegments></requestFiltering></security>
      <staticContent><remove fileExtension=".json"/><mimeMap fileExtension=".json" mimeType="application/json; charset=utf-8"/></staticContent>`),
    'a/web.config': webConfig(`<handlers><remove name="one"/><add name="one" path="one.js" verb="GET" modules="iisnode"/></handlers>
      <defaultDocument><files><clear/><add value="app.js"/></files></defaultDocument>`),
    'b/web.config': webConfig(
      '<handlers><clear/></handlers><staticContent><clear/><mimeMap fileExtension=".txt" mimeType="text/plain"/></staticContent>',
      '<appSettings><clear/></appSettings>',
    ),
  });
  const config = SiteConfig.load(root, {});
  assert.deepEqual(config.errors, []);
  const top = config.forPath('/');
  assert.equal(top.hiddenSegments.has('bin'), false);
  assert.equal(top.mimeMap.get('.json'), 'application/json; charset=utf-8');
  const a = config.forPath('/a/');
  assert.deepEqual(
    a.handlers.map((h) => [h.name, h.path]),
    [
      ['one', 'one.js'],
      ['two', '*.njs'],
    ],
  );
  assert.deepEqual(a.defaultDocument.files, ['app.js']);
  const b = config.forPath('/b/c/d.txt');
  assert.deepEqual(b.handlers, []);
  assert.deepEqual([...b.mimeMap], [['.txt', 'text/plain']]);
});

test('adding a key twice in the chain is NH_ERR_CONFIG_DUPLICATE_KEY; a built-in mimeMap entry may be overridden', () => {
  const root = site({
    'web.config': webConfig(`<handlers><add name="iisnode" path="*.js" verb="*" modules="iisnode"/></handlers>
      <staticContent><mimeMap fileExtension=".json" mimeType="application/json"/><mimeMap fileExtension=".woff2" mimeType="font/woff2"/></staticContent>`),
    'dup/web.config': webConfig(`<handlers>
<add name="IISNODE" path="x.js" verb="*" modules="iisnode"/>
</handlers>`),
    'mime/web.config': webConfig('<staticContent>\n<mimeMap fileExtension=".JSON" mimeType="text/json"/></staticContent>'),
    'docs/web.config': webConfig('<defaultDocument><files><add value="INDEX.HTML"/></files></defaultDocument>'),
    'seg/web.config': webConfig('<security><requestFiltering><hiddenSegments><add segment="Bin"/></hiddenSegments></requestFiltering></security>'),
  });
  const config = SiteConfig.load(root, {});
  const top = config.forPath('/');
  assert.deepEqual(top.errors, []);
  assert.equal(top.mimeMap.get('.woff2'), 'font/woff2');
  const dup = config.forPath('/dup/x.js');
  assert.equal(dup.errors.length, 1);
  assert.equal(dup.errors[0]?.code, 'NH_ERR_CONFIG_DUPLICATE_KEY');
  assert.equal(dup.errors[0]?.status, 500);
  assert.equal(dup.errors[0]?.substatus, 19);
  assert.equal(dup.errors[0]?.source?.file, path.join(root, 'dup', 'web.config'));
  assert.equal(dup.errors[0]?.source?.line, 5);
  // The folder fails, but its entry is merged as if removed and re-added, so `check` still sees it.
  assert.deepEqual(
    dup.handlers.map((h) => h.path),
    ['x.js'],
  );
  assert.match(dup.errors[0]?.message ?? '', new RegExp(`${path.join(root, 'web.config').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4`));
  // The site's own .json add is not built in: adding it again is an error.
  assert.equal(config.forPath('/mime/').errors[0]?.code, 'NH_ERR_CONFIG_DUPLICATE_KEY');
  assert.equal(config.forPath('/docs/').errors[0]?.code, 'NH_ERR_CONFIG_DUPLICATE_KEY');
  assert.equal(config.forPath('/seg/').errors[0]?.code, 'NH_ERR_CONFIG_DUPLICATE_KEY');
  assert.equal(config.errors.length, 4);
});

test('a duplicate inside one file is an error too', () => {
  const config = SiteConfig.load(
    site({
      'web.config': webConfig('<staticContent><mimeMap fileExtension=".md" mimeType="a/b"/><mimeMap fileExtension=".md" mimeType="c/d"/></staticContent>'),
    }),
    {},
  );
  assert.equal(config.errors[0]?.code, 'NH_ERR_CONFIG_DUPLICATE_KEY');
});

test('errors of a broken file only affect URLs at and below its folder', () => {
  const root = site({
    'web.config': webConfig(IISNODE_HANDLER),
    'sub/web.config': '<configuration>\n<system.webServer>\n<iisnode idontexist="1"/>\n</system.webServer>\n</configuration>\n',
    'xml/web.config': '<configuration>\n<system.webServer>\n</configuration>\n',
  });
  const config = SiteConfig.load(root, {});
  assert.deepEqual(config.forPath('/').errors, []);
  assert.deepEqual(config.forPath('/hello.js').errors, []);
  assert.deepEqual(config.forPath('/subway/').errors, []);
  const sub = config.forPath('/sub/deeper/file.js');
  assert.equal(sub.errors.length, 1);
  assert.equal(sub.errors[0]?.code, 'NH_ERR_CONFIG_UNKNOWN_ATTRIBUTE');
  assert.equal(sub.errors[0]?.source?.line, 3);
  assert.deepEqual(
    sub.handlers.map((h) => h.name),
    ['iisnode'],
  );
  assert.equal(config.forPath('/xml/').errors[0]?.code, 'NH_ERR_CONFIG_XML');
  assert.equal(config.errors.length, 2);
});

test('location: ancestor locations, then the folder\'s own file, then its own location path="."', () => {
  const root = site({
    'web.config': webConfig(
      '<iisnode maxLogFiles="1"/>',
      `<location path="api"><system.webServer><iisnode maxLogFiles="2" loggingEnabled="false"/><handlers><add name="fromRootLocation" path="*.js" verb="*" modules="iisnode"/></handlers></system.webServer></location>
       <location path="API/v2/"><system.webServer><iisnode maxLogFiles="22"/></system.webServer></location>
       <location path="."><system.webServer><iisnode maxTotalLogFileSizeInKB="7"/></system.webServer></location>`,
    ),
    'api/web.config': webConfig(
      '<iisnode maxLogFiles="3"/><handlers><add name="fromApiFile" path="server.js" verb="*" modules="iisnode"/></handlers>',
      '<location path="."><system.webServer><iisnode maxLogFiles="4"/></system.webServer></location>',
    ),
  });
  const config = SiteConfig.load(root, {});
  assert.deepEqual(config.errors, []);
  assert.equal(config.forPath('/').iisnode.maxLogFiles, 1);
  assert.equal(config.forPath('/').iisnode.maxTotalLogFileSizeInKB, 7);
  const api = config.forPath('/api/server.js');
  assert.equal(api.iisnode.maxLogFiles, 4);
  assert.equal(api.iisnode.loggingEnabled, false);
  assert.equal(api.iisnode.maxTotalLogFileSizeInKB, 7);
  assert.deepEqual(
    api.handlers.map((h) => [h.name, h.scope]),
    [
      ['fromApiFile', '/api/'],
      ['fromRootLocation', '/api/'],
    ],
  );
  assert.equal(api.iisnodeSources.maxLogFiles?.file, path.join(root, 'api', 'web.config'));
  assert.equal(config.forPath('/api/v2/x').iisnode.maxLogFiles, 22);
  // Segment-wise and case-insensitive.
  assert.equal(config.forPath('/apiv2/').iisnode.maxLogFiles, 1);
  assert.equal(config.forPath('/API/').iisnode.maxLogFiles, 4);
  assert.equal(config.forPath('/api').iisnode.maxLogFiles, 4);
});

test('a location can name a single file', () => {
  const root = site({
    'web.config': webConfig(
      IISNODE_HANDLER,
      '<location path="app/hello.js"><system.webServer><iisnode nodeProcessCountPerApplication="3"/><handlers><add name="one" path="hello.js" verb="*" modules="iisnode"/></handlers></system.webServer></location>',
    ),
    'app/hello.js': '',
  });
  const config = SiteConfig.load(root, {});
  assert.equal(config.forPath('/app/hello.js').iisnode.nodeProcessCountPerApplication, 3);
  assert.equal(config.forPath('/app/hello.js/path/info').iisnode.nodeProcessCountPerApplication, 3);
  assert.equal(config.forPath('/app/other.js').iisnode.nodeProcessCountPerApplication, 1);
  assert.equal(config.forPath('/app/hello.js').handlers[0]?.scope, '/app/');
});

test('a location inside a sub-folder file is relative to that folder', () => {
  const root = site({
    'a/web.config': webConfig('', '<location path="b"><appSettings><add key="K" value="V"/></appSettings></location>'),
  });
  const config = SiteConfig.load(root, {});
  assert.deepEqual(config.forPath('/a/b/').appSettings, [['K', 'V']]);
  assert.deepEqual(config.forPath('/b/').appSettings, []);
});

test('appSettings entries with an empty key are dropped; empty values kept', () => {
  const config = SiteConfig.load(
    site({ 'web.config': '<configuration><appSettings><add key="" value="x"/><add key="E" value=""/><add key="F"/></appSettings></configuration>' }),
    {},
  );
  assert.deepEqual(config.forPath('/').appSettings, [
    ['E', ''],
    ['F', ''],
  ]);
});

test('node_modules, dot-folders and unknown folders are skipped; Web.config counts', () => {
  const root = site({
    'node_modules/pkg/web.config': '<broken',
    '.git/web.config': '<broken',
    'Sub/Web.config': webConfig('<iisnode maxLogFiles="9"/>'),
  });
  const config = SiteConfig.load(root, {});
  assert.deepEqual(config.errors, []);
  assert.deepEqual(config.files, [path.join(root, 'Sub', 'Web.config')]);
  assert.equal(config.forPath('/sub/').iisnode.maxLogFiles, 9);
});

test('a missing site root is a read error, not a throw', () => {
  const config = SiteConfig.load(path.join(tmpdir(), 'nodehost-does-not-exist-' + process.pid), {});
  assert.equal(config.errors[0]?.code, 'NH_ERR_CONFIG_READ');
  assert.deepEqual(config.forPath('/').handlers, []);
});

test('forPath returns the same frozen object for every URL of a level', () => {
  const root = site({ 'web.config': webConfig(IISNODE_HANDLER), 'a/web.config': webConfig('<iisnode maxLogFiles="2"/>') });
  const config = SiteConfig.load(root, {});
  assert.equal(config.forPath('/x/y/z.js'), config.forPath('/'));
  assert.equal(config.forPath('/a/1'), config.forPath('/A/2/3'));
  assert.notEqual(config.forPath('/a/1'), config.forPath('/'));
  // Changing the files after load changes nothing: configuration is compiled once.
  rmSync(path.join(root, 'a', 'web.config'));
  assert.equal(config.forPath('/a/new').iisnode.maxLogFiles, 2);
});

test('resolveAppSettings: web.config < IISNODE_* < iisnode.yml, with expansion and CPU defaults', () => {
  const root = site({
    'web.config': webConfig(
      `${IISNODE_HANDLER}<iisnode maxLogFiles="5" loggingEnabled="false" logDirectory="%LOGROOT%/logs" nodeProcessCountPerApplication="3" node_env="%node_env%" debuggerPathSegment="%SEG%"/>`,
    ),
    'hello.js': '',
    'iisnode.yml': 'maxLogFiles: 7\n# comment\ndebugPortRange: %SEG%\nwatchedFiles: %SEG%;*.js\n',
  });
  const env = { LOGROOT: '/var/log', NODE_ENV: 'production', SEG: 'dbg', IISNODE_loggingEnabled: 'true', IISNODE_nodeProcessCountPerApplication: '0' };
  const config = SiteConfig.load(root, env);
  const script = path.join(root, 'hello.js');
  const result = config.resolveAppSettings(script, config.forPath('/hello.js'));
  assert.deepEqual(result.errors, []);
  assert.equal(result.ymlFile, path.join(root, 'iisnode.yml'));
  const s = result.settings;
  assert.equal(s.maxLogFiles, 7);
  assert.equal(s.loggingEnabled, true);
  assert.equal(s.logDirectory, '/var/log/logs');
  assert.equal(s.node_env, 'production');
  assert.equal(s.debuggerPathSegment, 'dbg');
  assert.equal(s.debuggerPortRange, '%SEG%');
  assert.equal(s.watchedFiles, 'dbg;*.js');
  assert.equal(s.nodeProcessCountPerApplication, availableParallelism());
  assert.equal(s.asyncCompletionThreadCount, availableParallelism());
  assert.ok(Object.isFrozen(s));
  assert.deepEqual(result.origins.maxLogFiles, { kind: 'yml', source: { file: path.join(root, 'iisnode.yml'), line: 1 } });
  assert.deepEqual(result.origins.loggingEnabled, { kind: 'env', variable: 'IISNODE_loggingEnabled' });
  assert.equal(result.origins.logDirectory.kind, 'web.config');
  assert.equal(result.origins.enableXFF.kind, 'default');
  // The folder configuration itself is untouched.
  assert.equal(config.forPath('/hello.js').iisnode.maxLogFiles, 5);
});

test('resolveAppSettings reads iisnode.yml fresh on every call; errors are returned, not thrown', () => {
  const root = site({ 'web.config': webConfig(IISNODE_HANDLER), 'hello.js': '' });
  const config = SiteConfig.load(root, { IISNODE_maxLogFiles: 'many' });
  const script = path.join(root, 'hello.js');
  const folder = config.forPath('/hello.js');
  let result = config.resolveAppSettings(script, folder);
  assert.deepEqual(
    result.errors.map((e) => e.code),
    ['NH_ERR_CONFIG_ENV'],
  );
  assert.equal(result.settings.maxLogFiles, 20);
  writeFileSync(path.join(root, 'iisnode.yml'), 'nodeProcessCountPerApplication: 2\n');
  assert.equal(config.resolveAppSettings(script, folder).settings.nodeProcessCountPerApplication, 2);
  writeFileSync(path.join(root, 'iisnode.yml'), 'nodeProcessCountPerApplication: 2\nloggingEnabled: foobar\n');
  result = config.resolveAppSettings(script, folder);
  const yml = result.errors.find((e) => e.code === 'NH_ERR_CONFIG_YML');
  assert.equal(yml?.source?.line, 2);
  assert.equal(yml?.substatus, 1032);
  // A bad file applies none of its settings.
  assert.equal(result.settings.nodeProcessCountPerApplication, 1);
});

test('configOverrides: a custom file name, expanded, relative to the script; empty turns it off', () => {
  const root = site({
    'web.config': webConfig(
      IISNODE_HANDLER,
      '<location path="app"><system.webServer><iisnode configOverrides="%NAME%.yml"/></system.webServer></location><location path="off"><system.webServer><iisnode configOverrides=""/></system.webServer></location>',
    ),
    'app/hello.js': '',
    'app/custom.yml': 'maxLogFiles: 2',
    'app/iisnode.yml': 'maxLogFiles: 3',
    'off/hello.js': '',
    'off/iisnode.yml': 'maxLogFiles: 4',
  });
  const config = SiteConfig.load(root, { NAME: 'custom' });
  const app = config.resolveAppSettings(path.join(root, 'app', 'hello.js'), config.forPath('/app/hello.js'));
  assert.equal(app.settings.maxLogFiles, 2);
  assert.equal(app.ymlFile, path.join(root, 'app', 'custom.yml'));
  const off = config.resolveAppSettings(path.join(root, 'off', 'hello.js'), config.forPath('/off/hello.js'));
  assert.equal(off.settings.maxLogFiles, 20);
  assert.equal(off.ymlFile, undefined);
});

test('node_env stays the literal %node_env% when the host has no NODE_ENV', () => {
  const root = site({ 'hello.js': '' });
  const config = SiteConfig.load(root, {});
  assert.equal(config.resolveAppSettings(path.join(root, 'hello.js'), config.forPath('/hello.js')).settings.node_env, '%node_env%');
});
