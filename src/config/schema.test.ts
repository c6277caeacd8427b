import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultIisnodeSettings, expandEnvironment, IISNODE_SCHEMA, parseSettingValue, SETTINGS_BY_NAME, type SettingSpec } from './schema.js';

function spec(name: string): SettingSpec {
  const found = SETTINGS_BY_NAME.get(name);
  assert.ok(found, name);
  return found;
}

test("the schema lists the 34 iisnode settings and nodehost's own 10, each with a default of its type and a real description", () => {
  assert.equal(IISNODE_SCHEMA.length, 44);
  assert.equal(new Set(IISNODE_SCHEMA.map((s) => s.name)).size, 44);
  for (const s of IISNODE_SCHEMA) {
    const expected = s.type === 'bool' ? 'boolean' : s.type === 'uint' ? 'number' : 'string';
    assert.equal(typeof s.default, expected, s.name);
    assert.match(s.description, /^[A-Z].*\.$/s, `${s.name}: a full sentence`);
    assert.match(s.description, /default/i, `${s.name}: the description states the default`);
    if (s.ymlExpanded) assert.ok(s.expanded, `${s.name}: yml expansion implies schema expansion`);
  }
});

test('nodehost defaults that differ from iisnode', () => {
  const defaults = defaultIisnodeSettings();
  assert.ok(defaults.nodeProcessCommandLine.includes(process.execPath));
  assert.equal(defaults.interceptor, '');
  assert.equal(defaults.nodeProcessCountPerApplication, 1);
  assert.equal(defaults.node_env, '%node_env%');
  assert.equal(defaults.maxConcurrentRequestsPerProcess, 1024);
  assert.equal(defaults.devErrorsEnabled, true);
  assert.equal(defaults.watchedFiles, '*.js;iisnode.yml');
  assert.equal(defaults.overlappedRecycle, true);
  // A fresh object each time: callers may mutate it.
  defaults.maxLogFiles = 1;
  assert.equal(defaultIisnodeSettings().maxLogFiles, 20);
});

test('yml keys and expansion flags follow spec/iisnode.md 1.1 and 1.2', () => {
  assert.equal(spec('debuggerPortRange').ymlKey, 'debugPortRange');
  assert.equal(spec('configOverrides').ymlKey, null);
  assert.equal(spec('node_env').ymlKey, 'node_env');
  const expanded = IISNODE_SCHEMA.filter((s) => s.expanded)
    .map((s) => s.name)
    .sort();
  assert.deepEqual(
    expanded,
    ['configOverrides', 'debuggerPathSegment', 'debuggerPortRange', 'interceptor', 'logDirectory', 'nodeProcessCommandLine', 'node_env', 'watchedFiles'].sort(),
  );
  const ymlExpanded = IISNODE_SCHEMA.filter((s) => s.ymlExpanded)
    .map((s) => s.name)
    .sort();
  assert.deepEqual(ymlExpanded, ['interceptor', 'logDirectory', 'nodeProcessCommandLine', 'node_env', 'watchedFiles'].sort());
  assert.deepEqual(
    IISNODE_SCHEMA.filter((s) => s.allowInfinite).map((s) => s.name),
    ['maxConcurrentRequestsPerProcess'],
  );
});

test('booleans: web.config takes true/false, env adds 1/0, yml adds yes/no; all case-insensitive', () => {
  const b = spec('loggingEnabled');
  assert.deepEqual(parseSettingValue(b, 'TRUE', 'web.config'), { ok: true, value: true });
  assert.deepEqual(parseSettingValue(b, 'False', 'web.config'), { ok: true, value: false });
  assert.equal(parseSettingValue(b, '1', 'web.config').ok, false);
  assert.equal(parseSettingValue(b, 'yes', 'web.config').ok, false);
  assert.deepEqual(parseSettingValue(b, '1', 'env'), { ok: true, value: true });
  assert.deepEqual(parseSettingValue(b, '0', 'env'), { ok: true, value: false });
  assert.equal(parseSettingValue(b, 'yes', 'env').ok, false);
  assert.deepEqual(parseSettingValue(b, 'YES', 'yml'), { ok: true, value: true });
  assert.deepEqual(parseSettingValue(b, 'No', 'yml'), { ok: true, value: false });
  assert.deepEqual(parseSettingValue(b, '0', 'yml'), { ok: true, value: false });
  const bad = parseSettingValue(b, 'foobar', 'yml');
  assert.equal(bad.ok, false);
  assert.match(bad.ok ? '' : bad.message, /loggingEnabled.*foobar/);
  assert.equal(parseSettingValue(b, '', 'env').ok, false);
});

test('uints: web.config and env need decimal digits within 32 bits; Infinite only in web.config', () => {
  const u = spec('maxLogFiles');
  assert.deepEqual(parseSettingValue(u, '42', 'web.config'), { ok: true, value: 42 });
  assert.deepEqual(parseSettingValue(u, '007', 'env'), { ok: true, value: 7 });
  for (const raw of ['-1', '12abc', '', ' 1', '1.5', '0x10', '4294967296']) {
    assert.equal(parseSettingValue(u, raw, 'web.config').ok, false, raw);
    assert.equal(parseSettingValue(u, raw, 'env').ok, false, raw);
  }
  assert.deepEqual(parseSettingValue(u, '4294967295', 'web.config'), { ok: true, value: 4294967295 });
  const c = spec('maxConcurrentRequestsPerProcess');
  assert.deepEqual(parseSettingValue(c, 'Infinite', 'web.config'), { ok: true, value: 4294967295 });
  assert.deepEqual(parseSettingValue(c, 'infinite', 'web.config'), { ok: true, value: 4294967295 });
  assert.equal(parseSettingValue(c, 'Infinite', 'env').ok, false);
  assert.equal(parseSettingValue(u, 'Infinite', 'web.config').ok, false);
});

test('uints in yml are read like C atol', () => {
  const u = spec('nodeProcessCountPerApplication');
  const value = (raw: string) => {
    const parsed = parseSettingValue(u, raw, 'yml');
    assert.ok(parsed.ok);
    return parsed.value;
  };
  assert.equal(value('12abc'), 12);
  assert.equal(value('abc'), 0);
  assert.equal(value('7'), 7);
  assert.equal(value('+3'), 3);
  assert.equal(value('\t5'), 5);
  assert.equal(value('-1'), 4294967295);
  assert.equal(value('99999999999'), 2147483647);
});

test('strings are kept verbatim', () => {
  assert.deepEqual(parseSettingValue(spec('logDirectory'), ' "a b" ', 'yml'), { ok: true, value: ' "a b" ' });
});

test('expandEnvironment looks names up case-insensitively and leaves unknown names as written', () => {
  const env = { NODE_ENV: 'production', HOME: '/home/x', Mixed: 'm' };
  assert.equal(expandEnvironment('%node_env%', env), 'production');
  assert.equal(expandEnvironment('%NODE_ENV%', env), 'production');
  assert.equal(expandEnvironment('%home%/logs', env), '/home/x/logs');
  assert.equal(expandEnvironment('%nope%', env), '%nope%');
  assert.equal(expandEnvironment('%node_env%', {}), '%node_env%');
  assert.equal(expandEnvironment('a%%b', env), 'a%%b');
  assert.equal(expandEnvironment('100%', env), '100%');
  assert.equal(expandEnvironment('%MIXED%-%mixed%', env), 'm-m');
  // Unknown names are kept whole and scanning resumes after their closing %.
  assert.equal(expandEnvironment('%nope%HOME%', env), '%nope%HOME%');
  assert.equal(expandEnvironment('x%HOME%%NODE_ENV%y', env), 'x/home/xproductiony');
  // An exact-case match wins when Linux has several spellings.
  assert.equal(expandEnvironment('%Path%', { PATH: 'upper', Path: 'exact' }), 'exact');
});
