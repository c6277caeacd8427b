// The web.config readers and merges of httpProtocol, staticContent/clientCache and httpErrors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NodehostError } from '../errors.js';
import { parseTimeSpan } from './client-cache-config.js';
import { FolderMerge } from './folder-merge.js';
import type { FolderConfig } from './types.js';
import { parseWebConfig, type WebConfigFile } from './web-config.js';

function parse(body: string, file = '/site/web.config'): WebConfigFile {
  return parseWebConfig(`<?xml version="1.0"?>\n<configuration>\n<system.webServer>\n${body}\n</system.webServer>\n</configuration>\n`, file, '/');
}

/** merge applies the files' top levels, parent first, and returns the last level and every error. */
function merge(...files: WebConfigFile[]): { config: FolderConfig; errors: NodehostError[] } {
  let state = FolderMerge.base();
  const errors: NodehostError[] = [];
  for (const file of files) {
    state = state.child();
    errors.push(...file.errors, ...file.top.errors, ...state.apply(file.top));
  }
  return { config: state.freeze(), errors };
}

test('parseTimeSpan reads IIS time spans', () => {
  assert.equal(parseTimeSpan('7.00:00:00'), 604800);
  assert.equal(parseTimeSpan('365.00:00:00'), 31536000);
  assert.equal(parseTimeSpan('01:30:05'), 5405);
  assert.equal(parseTimeSpan('1.00:00:00.000'), 86400);
  assert.equal(parseTimeSpan('7 days'), undefined);
  assert.equal(parseTimeSpan('00:61:00'), undefined);
});

test('clientCache: the headers of each mode, attributes inherited one by one', () => {
  assert.equal(merge().config.clientCache, undefined, 'NoControl by default');
  const parent = parse('<staticContent><clientCache cacheControlMode="UseMaxAge" cacheControlCustom="public"/></staticContent>');
  assert.deepEqual(merge(parent).config.clientCache?.headers, [['Cache-Control', 'max-age=86400, public']]);
  const child = parse('<staticContent><clientCache cacheControlMaxAge="7.00:00:00"/></staticContent>', '/site/a/web.config');
  assert.deepEqual(merge(parent, child).config.clientCache?.headers, [['Cache-Control', 'max-age=604800, public']]);
  const off = parse('<staticContent><clientCache cacheControlMode="DisableCache"/></staticContent>');
  assert.deepEqual(merge(off).config.clientCache?.headers, [['Cache-Control', 'no-cache']]);
  const expires = parse('<staticContent><clientCache cacheControlMode="UseExpires" httpExpires="Fri, 01 Jan 2038 00:00:00 GMT"/></staticContent>');
  assert.deepEqual(merge(expires).config.clientCache?.headers, [['Expires', 'Fri, 01 Jan 2038 00:00:00 GMT']]);
  const none = parse('<staticContent><clientCache cacheControlMode="NoControl"/></staticContent>');
  assert.equal(merge(parent, none).config.clientCache, undefined);
});

test('clientCache: bad values are errors with file and line', () => {
  const { errors } = merge(parse('<staticContent><clientCache cacheControlMode="Forever" cacheControlMaxAge="a week" httpExpires="soon"/></staticContent>'));
  assert.equal(errors.length, 3, errors.map(String).join('\n'));
  assert.ok(errors.every((error) => error.source?.file === '/site/web.config' && error.source.line === 4));
  assert.match(errors.map((e) => e.message).join('\n'), /cacheControlMaxAge must be a time span/);
});

test('customHeaders: the built-in X-Powered-By, append, remove, clear', () => {
  assert.deepEqual(merge().config.httpProtocol.customHeaders, [{ name: 'X-Powered-By', value: 'nodehost' }]);
  const root = parse(
    '<httpProtocol><customHeaders><add name="X-A" value="1"/></customHeaders><redirectHeaders><add name="X-R" value="r"/></redirectHeaders></httpProtocol>',
  );
  const sub = parse(
    '<httpProtocol><customHeaders><remove name="x-powered-by"/><add name="X-B" value=""/></customHeaders></httpProtocol>',
    '/site/a/web.config',
  );
  const { config, errors } = merge(root, sub);
  assert.deepEqual(errors, []);
  assert.deepEqual(
    config.httpProtocol.customHeaders.map((h) => h.name),
    ['X-A', 'X-B'],
  );
  assert.deepEqual(config.httpProtocol.redirectHeaders, [{ name: 'X-R', value: 'r' }]);
  const cleared = merge(root, parse('<httpProtocol><customHeaders><clear/><add name="X-C" value="3"/></customHeaders></httpProtocol>', '/site/b/web.config'));
  assert.deepEqual(
    cleared.config.httpProtocol.customHeaders.map((h) => h.name),
    ['X-C'],
  );
});

test('customHeaders: an inherited name added again is NH_ERR_CONFIG_DUPLICATE_KEY at the add, naming the first', () => {
  const root = parse('<httpProtocol><customHeaders><add name="X-A" value="1"/></customHeaders></httpProtocol>');
  const sub = parse('<httpProtocol>\n<customHeaders>\n<add name="x-a" value="2"/>\n</customHeaders>\n</httpProtocol>', '/site/a/web.config');
  const { errors } = merge(root, sub);
  assert.equal(errors.length, 1);
  assert.equal(errors[0]!.code, 'NH_ERR_CONFIG_DUPLICATE_KEY');
  assert.deepEqual([errors[0]!.source?.file, errors[0]!.source?.line], ['/site/a/web.config', 6]);
  assert.match(errors[0]!.message, /customHeaders: name 'x-a' is already defined \(at \/site\/web\.config:4\)/);
  const builtIn = merge(parse('<httpProtocol><customHeaders><add name="X-Powered-By" value="me"/></customHeaders></httpProtocol>'));
  assert.match(builtIn.errors[0]!.message, /already defined \(at the built-in configuration\)/);
});

test('customHeaders: a bad name or a value with a line break is refused', () => {
  const { errors } = merge(
    parse('<httpProtocol><customHeaders><add name="X Bad" value="1"/><add name="X-Ok" value="a&#10;b"/><bogus/></customHeaders></httpProtocol>'),
  );
  assert.deepEqual(
    errors.map((e) => e.code),
    ['NH_ERR_CONFIG_BAD_VALUE', 'NH_ERR_CONFIG_BAD_VALUE', 'NH_ERR_CONFIG_UNKNOWN_ELEMENT'],
  );
});

test('httpErrors: IIS defaults, entries keyed by status and substatus, files resolved against their web.config', () => {
  const defaults = merge().config.httpErrors;
  assert.deepEqual(
    [defaults.errorMode, defaults.existingResponse, defaults.defaultResponseMode, defaults.errors.length, defaults.defaultPage],
    ['DetailedLocalOnly', 'Auto', 'File', 0, undefined],
  );
  const root = parse(
    '<httpErrors errorMode="Custom" existingResponse="Replace"><error statusCode="404" path="errors\\404.html"/><error statusCode="404" subStatusCode="8" path="/hidden.js" responseMode="ExecuteURL"/></httpErrors>',
  );
  const sub = parse(
    '<httpErrors defaultPath="https://example.com/" defaultResponseMode="Redirect"><remove statusCode="404" subStatusCode="8"/></httpErrors>',
    '/site/a/web.config',
  );
  const { config, errors } = merge(root, sub);
  assert.deepEqual(errors, []);
  assert.equal(config.httpErrors.errorMode, 'Custom');
  assert.equal(config.httpErrors.existingResponse, 'Replace');
  assert.deepEqual(
    config.httpErrors.errors.map((page) => [page.statusCode, page.subStatusCode, page.responseMode, page.file]),
    [[404, -1, 'File', '/site/errors/404.html']],
  );
  assert.deepEqual([config.httpErrors.defaultPage?.responseMode, config.httpErrors.defaultPage?.path], ['Redirect', 'https://example.com/']);
});

test('httpErrors: a repeated entry is 500.19; an absolute File path, a relative ExecuteURL and a bad status are errors', () => {
  const root = parse('<httpErrors><error statusCode="404" path="a.html"/></httpErrors>');
  const dup = merge(root, parse('<httpErrors><error statusCode="404" path="b.html"/></httpErrors>', '/site/a/web.config'));
  assert.deepEqual(
    dup.errors.map((e) => e.code),
    ['NH_ERR_CONFIG_DUPLICATE_KEY'],
  );
  const bad = merge(
    parse(
      '<httpErrors><error statusCode="404" path="C:\\inetpub\\404.htm"/><error statusCode="500" path="500.js" responseMode="ExecuteURL"/><error statusCode="200" path="x"/><error statusCode="403"/><error statusCode="401" path="x" responseMode="Page"/></httpErrors>',
    ),
  );
  assert.deepEqual(
    bad.errors.map((e) => e.code),
    ['NH_ERR_CONFIG_BAD_VALUE', 'NH_ERR_CONFIG_BAD_VALUE', 'NH_ERR_CONFIG_BAD_VALUE', 'NH_ERR_CONFIG_MISSING_ATTRIBUTE', 'NH_ERR_CONFIG_BAD_VALUE'],
  );
  assert.match(bad.errors[0]!.message, /absolute/);
  assert.match(bad.errors[1]!.message, /starting with '\/'/);
});
