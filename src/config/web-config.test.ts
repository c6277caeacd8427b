import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import type { NodehostError } from '../errors.js';
import { decodeConfigText, parseWebConfig, readWebConfig, type WebConfigFile } from './web-config.js';

const FILE = '/site/web.config';

function parse(body: string): WebConfigFile {
  return parseWebConfig(`<?xml version="1.0"?>\n<configuration>\n${body}\n</configuration>\n`, FILE, '/');
}

function allErrors(file: WebConfigFile): NodehostError[] {
  return [...file.errors, ...file.top.errors, ...file.locations.flatMap((l) => l.sections.errors)];
}

function onlyError(file: WebConfigFile): NodehostError {
  const errors = allErrors(file);
  assert.equal(errors.length, 1, errors.map(String).join('\n'));
  return errors[0] as NodehostError;
}

test('reads the iisnode element into typed assignments with their position', () => {
  const file = parse(
    '  <system.webServer>\n    <iisnode nodeProcessCountPerApplication="2" loggingEnabled="False" maxConcurrentRequestsPerProcess="Infinite" logDirectory="%TEMP%\\logs"/>\n  </system.webServer>',
  );
  assert.deepEqual(allErrors(file), []);
  assert.deepEqual(
    file.top.iisnode.map((a) => [a.name, a.value]),
    [
      ['nodeProcessCountPerApplication', 2],
      ['loggingEnabled', false],
      ['maxConcurrentRequestsPerProcess', 4294967295],
      ['logDirectory', '%TEMP%\\logs'],
    ],
  );
  assert.deepEqual(file.top.iisnode[0]?.source, { file: FILE, line: 4, column: 14 });
});

test('an unknown attribute on <iisnode> is an error naming file:line, element and attribute (iisnode test 116)', () => {
  const error = onlyError(parse('<system.webServer>\n<iisnode idontexist="12"/>\n</system.webServer>'));
  assert.equal(error.code, 'NH_ERR_CONFIG_UNKNOWN_ATTRIBUTE');
  assert.equal(error.source?.line, 4);
  assert.match(error.message, /idontexist/);
  assert.match(error.message, /<iisnode>/);
  assert.match(error.toString(), /^\/site\/web\.config:4:\d+: /);
});

test('attribute names are case-sensitive, as in IIS', () => {
  assert.equal(onlyError(parse('<system.webServer><iisnode LoggingEnabled="false"/></system.webServer>')).code, 'NH_ERR_CONFIG_UNKNOWN_ATTRIBUTE');
});

test('a bad setting value is NH_ERR_CONFIG_BAD_VALUE naming the setting and line', () => {
  const error = onlyError(parse('<system.webServer>\n\n<iisnode maxLogFiles="-3"/></system.webServer>'));
  assert.equal(error.code, 'NH_ERR_CONFIG_BAD_VALUE');
  assert.equal(error.source?.line, 5);
  assert.match(error.message, /maxLogFiles/);
  assert.equal(onlyError(parse('<system.webServer><iisnode loggingEnabled="1"/></system.webServer>')).code, 'NH_ERR_CONFIG_BAD_VALUE');
});

test('lock*, xmlns and xdt: attributes are accepted everywhere', () => {
  const file = parse(
    '<system.webServer xdt:Transform="x"><iisnode lockAttributes="node_env" xdt:Locator="y"/><handlers lockItem="true"><add name="a" path="*.js" verb="*" modules="iisnode" xmlns:foo="z"/></handlers></system.webServer>',
  );
  assert.deepEqual(allErrors(file), []);
});

test('handlers: add with every documented attribute, remove, clear, in document order', () => {
  const file = parse(`<system.webServer><handlers accessPolicy="Read, Script">
    <clear/>
    <add name="iisnode" path="hello.js" verb="GET, head" modules="iisnode" resourceType="file" requireAccess="Script" preCondition="integratedMode" responseBufferLimit="0" allowPathInfo="true" scriptProcessor="" type=""/>
    <remove name="StaticFile"/>
  </handlers></system.webServer>`);
  assert.deepEqual(allErrors(file), []);
  const ops = file.top.handlers;
  assert.deepEqual(
    ops.map((op) => op.kind),
    ['clear', 'add', 'remove'],
  );
  const add = ops[1];
  assert.ok(add?.kind === 'add');
  assert.equal(add.key, 'iisnode');
  assert.deepEqual(add.value.verbs, ['GET', 'HEAD']);
  assert.equal(add.value.resourceType, 'File');
  assert.equal(add.value.responseBufferLimit, 0);
  assert.equal(add.value.preCondition, 'integratedMode');
  assert.equal(add.value.scope, '/');
  assert.equal(add.value.source.line, 5);
  assert.ok(Object.isFrozen(add.value));
  const remove = ops[2];
  assert.ok(remove?.kind === 'remove');
  assert.equal(remove.key, 'staticfile');
});

test('handlers: verb * and defaults', () => {
  const file = parse('<system.webServer><handlers><add name="n" path="*" verb="*"/></handlers></system.webServer>');
  const add = file.top.handlers[0];
  assert.ok(add?.kind === 'add');
  assert.equal(add.value.verbs, '*');
  assert.equal(add.value.modules, 'ManagedPipelineHandler');
  assert.equal(add.value.resourceType, 'Unspecified');
  assert.equal(add.value.requireAccess, 'Script');
  assert.equal(add.value.responseBufferLimit, 4194304);
});

test('handlers: missing required attributes, unknown attributes, bad enumerations, unknown children', () => {
  const missing = onlyError(parse('<system.webServer><handlers>\n<add name="n" verb="*"/></handlers></system.webServer>'));
  assert.equal(missing.code, 'NH_ERR_CONFIG_MISSING_ATTRIBUTE');
  assert.match(missing.message, /'path'/);
  assert.equal(missing.source?.line, 4);
  assert.equal(
    onlyError(parse('<system.webServer><handlers><add name="n" path="*" verb="*" colour="red"/></handlers></system.webServer>')).code,
    'NH_ERR_CONFIG_UNKNOWN_ATTRIBUTE',
  );
  assert.equal(
    onlyError(parse('<system.webServer><handlers><add name="n" path="*" verb="*" resourceType="Files"/></handlers></system.webServer>')).code,
    'NH_ERR_CONFIG_BAD_VALUE',
  );
  assert.equal(
    onlyError(parse('<system.webServer><handlers><add name="n" path="*" verb="*" responseBufferLimit="lots"/></handlers></system.webServer>')).code,
    'NH_ERR_CONFIG_BAD_VALUE',
  );
  assert.equal(onlyError(parse('<system.webServer><handlers><remove/></handlers></system.webServer>')).code, 'NH_ERR_CONFIG_MISSING_ATTRIBUTE');
  assert.equal(onlyError(parse('<system.webServer><handlers><insert name="x"/></handlers></system.webServer>')).code, 'NH_ERR_CONFIG_UNKNOWN_ELEMENT');
  assert.equal(onlyError(parse('<system.webServer><handlers foo="1"/></system.webServer>')).code, 'NH_ERR_CONFIG_UNKNOWN_ATTRIBUTE');
});

test('defaultDocument: enabled and files add/remove/clear', () => {
  const file = parse(
    '<system.webServer><defaultDocument enabled="false"><files><clear/><add value="Index.js"/><remove value="default.htm"/></files></defaultDocument></system.webServer>',
  );
  assert.deepEqual(allErrors(file), []);
  assert.equal(file.top.defaultDocumentEnabled?.value, false);
  assert.deepEqual(
    file.top.defaultDocuments.map((op) => [op.kind, op.kind === 'clear' ? '' : op.key]),
    [
      ['clear', ''],
      ['add', 'index.js'],
      ['remove', 'default.htm'],
    ],
  );
  const add = file.top.defaultDocuments[1];
  assert.ok(add?.kind === 'add');
  assert.equal(add.value, 'Index.js');
  assert.equal(onlyError(parse('<system.webServer><defaultDocument enabled="nope"/></system.webServer>')).code, 'NH_ERR_CONFIG_BAD_VALUE');
  assert.equal(
    onlyError(parse('<system.webServer><defaultDocument><files><add/></files></defaultDocument></system.webServer>')).code,
    'NH_ERR_CONFIG_MISSING_ATTRIBUTE',
  );
});

test('staticContent: mimeMap, remove, clear; clientCache accepted; missing attributes are errors', () => {
  const file = parse(
    '<system.webServer><staticContent><clientCache cacheControlMode="UseMaxAge" cacheControlMaxAge="7.00:00:00"/><remove fileExtension=".JSON"/><mimeMap fileExtension=".JSON" mimeType="application/json"/><clear/></staticContent></system.webServer>',
  );
  assert.deepEqual(allErrors(file), []);
  assert.deepEqual(
    file.top.mimeMap.map((op) => op.kind),
    ['remove', 'add', 'clear'],
  );
  const add = file.top.mimeMap[1];
  assert.ok(add?.kind === 'add');
  assert.deepEqual([add.key, add.value], ['.json', 'application/json']);
  const error = onlyError(parse('<system.webServer><staticContent><mimeMap fileExtension=".x"/></staticContent></system.webServer>'));
  assert.equal(error.code, 'NH_ERR_CONFIG_MISSING_ATTRIBUTE');
  assert.match(error.message, /mimeType/);
  assert.equal(
    onlyError(parse('<system.webServer><staticContent><clientCache maxAge="1"/></staticContent></system.webServer>')).code,
    'NH_ERR_CONFIG_UNKNOWN_ATTRIBUTE',
  );
});

test('requestFiltering: hiddenSegments read, other parts accepted and ignored', () => {
  const file = parse(`<system.webServer><security><authentication><anonymousAuthentication enabled="true"/></authentication>
    <requestFiltering allowDoubleEscaping="true" removeServerHeader="true">
      <requestLimits maxAllowedContentLength="1"/>
      <fileExtensions allowUnlisted="true"><add fileExtension=".x" allowed="false"/></fileExtensions>
      <hiddenSegments applyToWebDAV="false"><remove segment="bin"/><add segment="Node_Modules"/></hiddenSegments>
    </requestFiltering></security></system.webServer>`);
  assert.deepEqual(allErrors(file), []);
  assert.deepEqual(
    file.top.hiddenSegments.map((op) => [op.kind, op.kind === 'clear' ? '' : op.key]),
    [
      ['remove', 'bin'],
      ['add', 'node_modules'],
    ],
  );
  assert.equal(
    onlyError(
      parse(
        '<system.webServer><security><requestFiltering><hiddenSegments><add segment="x" name="x"/></hiddenSegments></requestFiltering></security></system.webServer>',
      ),
    ).code,
    'NH_ERR_CONFIG_UNKNOWN_ATTRIBUTE',
  );
});

test('appSettings: add, remove, clear; empty values and keys are kept here; file= is ignored', () => {
  const file = parse('<appSettings file="other.config"><add key="A" value="1"/><add key="B"/><add key="" value="x"/><remove key="a"/><clear/></appSettings>');
  assert.deepEqual(allErrors(file), []);
  const adds = file.top.appSettings.filter((op) => op.kind === 'add');
  assert.deepEqual(
    adds.map((op) => (op.kind === 'add' ? op.value : [])),
    [
      ['A', '1'],
      ['B', ''],
      ['', 'x'],
    ],
  );
  assert.equal(onlyError(parse('<appSettings><add value="1"/></appSettings>')).code, 'NH_ERR_CONFIG_MISSING_ATTRIBUTE');
});

test('sections nodehost does not implement are accepted and ignored', () => {
  const file = parse(`<system.web><compilation debug="true"/></system.web>
  <connectionStrings/><system.webServer>
    <rewrite><rules><rule name="x"><match url=".*"/><action type="Rewrite" url="a.js"/></rule></rules></rewrite>
    <httpErrors existingResponse="PassThrough"/><webSocket enabled="false"/><httpProtocol/>
  </system.webServer>`);
  assert.deepEqual(allErrors(file), []);
});

test('configSource is reported as not supported', () => {
  const error = onlyError(parse('<appSettings configSource="app.config"/>'));
  assert.equal(error.code, 'NH_ERR_CONFIG_BAD_VALUE');
  assert.match(error.message, /configSource/);
});

test('location elements: normalised paths, their own sections and scope', () => {
  const file = parseWebConfig(
    `<configuration>
  <location path="." inheritInChildApplications="false"><system.webServer><iisnode maxLogFiles="3"/></system.webServer></location>
  <location path="Api/v2/"><system.webServer><handlers><add name="api" path="*.js" verb="*" modules="iisnode"/></handlers></system.webServer><appSettings><add key="K" value="V"/></appSettings></location>
  <location path="app.js"><system.webServer><handlers><add name="app" path="app.js" verb="*" modules="iisnode"/></handlers></system.webServer></location>
  <location><system.webServer><iisnode bad="1"/></system.webServer></location>
</configuration>`,
    '/site/sub/web.config',
    '/sub/',
    { isFile: (relative) => relative === 'app.js' },
  );
  assert.deepEqual(
    file.locations.map((l) => l.relativePath),
    ['', 'Api/v2', 'app.js', ''],
  );
  const api = file.locations[1]?.sections.handlers[0];
  assert.ok(api?.kind === 'add');
  assert.equal(api.value.scope, '/sub/Api/v2/');
  const app = file.locations[2]?.sections.handlers[0];
  assert.ok(app?.kind === 'add');
  assert.equal(app.value.scope, '/sub/');
  assert.equal(file.locations[1]?.sections.appSettings.length, 1);
  assert.equal(file.locations[3]?.sections.errors[0]?.code, 'NH_ERR_CONFIG_UNKNOWN_ATTRIBUTE');
  assert.deepEqual(file.errors, []);
});

test('a location path that leaves the folder is an error of the file', () => {
  const file = parse('<location path="../x"><system.webServer/></location>');
  assert.equal(file.errors[0]?.code, 'NH_ERR_CONFIG_BAD_VALUE');
  assert.equal(file.locations.length, 0);
});

test('a root element other than configuration is an error; XML errors void the file', () => {
  const wrong = parseWebConfig('<config/>', FILE, '/');
  assert.equal(wrong.errors[0]?.code, 'NH_ERR_CONFIG_XML');
  const broken = parseWebConfig('<configuration>\n<system.webServer>\n<iisnode loggingEnabled="false"/>\n</configuration>', FILE, '/');
  assert.equal(broken.errors[0]?.code, 'NH_ERR_CONFIG_XML');
  assert.equal(broken.errors[0]?.source?.line, 4);
  assert.deepEqual(broken.top.iisnode, []);
});

test('readWebConfig reads UTF-8 and UTF-16 files and reports unreadable ones', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nodehost-webconfig-'));
  const utf16 = path.join(dir, 'web16.config');
  writeFileSync(
    utf16,
    Buffer.concat([
      Buffer.from([0xff, 0xfe]),
      Buffer.from('<configuration><system.webServer><iisnode maxLogFiles="4"/></system.webServer></configuration>', 'utf16le'),
    ]),
  );
  assert.equal(readWebConfig(utf16, '/').top.iisnode[0]?.value, 4);
  mkdirSync(path.join(dir, 'a-folder'));
  const unreadable = readWebConfig(path.join(dir, 'a-folder'), '/');
  assert.equal(unreadable.errors[0]?.code, 'NH_ERR_CONFIG_READ');
  assert.equal(decodeConfigText(Buffer.from('\ufeffabc', 'utf8')), '\ufeffabc');
});
