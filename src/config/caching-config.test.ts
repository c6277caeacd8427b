import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { SiteConfig } from './site-config.js';
import { parseWebConfig } from './web-config.js';

function site(files: Record<string, string>): { dir: string; config: SiteConfig } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nh-caching-'));
  for (const [name, text] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  }
  return { dir, config: SiteConfig.load(dir) };
}

const wrap = (caching: string) => `<configuration>\n<system.webServer>\n${caching}\n</system.webServer>\n</configuration>`;

test('profiles compile with their defaults; folders inherit and append; <remove> and <clear> work', () => {
  const { dir, config } = site({
    'web.config': wrap(
      `<caching maxResponseSize="1000"><profiles><add extension=".JS" policy="CacheForTimePeriod" duration="1.00:00:10" varyByQueryString="a; b" varyByHeaders="X-Lang"/></profiles></caching>`,
    ),
    'sub/web.config': wrap(`<caching enabled="false"><profiles><add extension="*" policy="CacheUntilChange" varyByQueryString="*"/></profiles></caching>`),
    'other/web.config': wrap(`<caching><profiles><remove extension=".js"/></profiles></caching>`),
    'cleared/web.config': wrap(`<caching><profiles><clear/></profiles></caching>`),
  });
  try {
    assert.deepEqual(config.errors, []);
    const root = config.forPath('/x.js').caching!;
    assert.equal(root.enabled, true);
    assert.equal(root.maxResponseSize, 1000);
    assert.equal(root.maxCacheSizeMB, 0);
    const js = root.profiles.get('.js')!;
    assert.equal(js.durationMs, 86_410_000);
    assert.deepEqual(js.varyByQueryString, ['a', 'b']);
    assert.deepEqual(js.varyByHeaders, ['x-lang']);
    assert.equal(js.location, 'Server');
    assert.equal(js.staleMs, 0);
    const sub = config.forPath('/sub/x.js').caching!;
    assert.equal(sub.enabled, false);
    assert.equal(sub.isActive, false);
    assert.equal(sub.maxResponseSize, 1000);
    assert.deepEqual([...sub.profiles.keys()], ['.js', '*']);
    assert.equal(sub.profiles.get('*')!.varyByQueryString, '*');
    assert.deepEqual([...config.forPath('/other/x.js').caching!.profiles.keys()], []);
    assert.equal(config.forPath('/cleared/').caching!.isActive, false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('a site without <caching> has no caching configuration at all', () => {
  const { dir, config } = site({ 'web.config': wrap('') });
  try {
    assert.equal(config.forPath('/').caching, undefined);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('bad values are errors naming the file and line', () => {
  const text = wrap(
    [
      '<caching maxCacheSize="lots">',
      '<profiles>',
      '<add extension=".js" policy="CacheForTimePeriod" duration="30s"/>',
      '<add extension="js" policy="Sometimes"/>',
      '<add extension=".css" policy="CacheForTimePeriod" duration="00:00:00"/>',
      '<add extension=".txt" colour="red"/>',
      '<add policy="CacheUntilChange"/>',
      '</profiles>',
      '<bogus/>',
      '</caching>',
    ].join('\n'),
  );
  const file = parseWebConfig(text, '/site/web.config', '/');
  const errors = file.top.errors.map((error) => `${error.source?.line} ${error.code} ${error.message}`);
  assert.deepEqual(errors, [
    "3 NH_ERR_CONFIG_BAD_VALUE system.webServer/caching: maxCacheSize must be a non-negative integer, not 'lots'",
    "5 NH_ERR_CONFIG_BAD_VALUE system.webServer/caching/profiles/add: duration must be a time span hh:mm:ss or d.hh:mm:ss, not '30s'",
    "6 NH_ERR_CONFIG_BAD_VALUE system.webServer/caching/profiles/add: extension must be '*' or start with '.', not 'js'",
    "6 NH_ERR_CONFIG_BAD_VALUE system.webServer/caching/profiles/add: policy must be one of DontCache, CacheUntilChange, CacheForTimePeriod, DisableCache, not 'Sometimes'",
    '7 NH_ERR_CONFIG_BAD_VALUE system.webServer/caching/profiles/add: policy CacheForTimePeriod needs a duration longer than 00:00:00',
    "8 NH_ERR_CONFIG_UNKNOWN_ATTRIBUTE Unknown attribute 'colour' on element <add> (system.webServer/caching/profiles/add)",
    "9 NH_ERR_CONFIG_MISSING_ATTRIBUTE Missing required attribute 'extension' on element <add> (system.webServer/caching/profiles/add)",
    '11 NH_ERR_CONFIG_UNKNOWN_ELEMENT Unknown element <bogus> in system.webServer/caching',
  ]);
  for (const error of file.top.errors) assert.equal(error.source?.file, '/site/web.config');
});

test('an extension added twice is a duplicate-key error (IIS 500.19)', () => {
  const { dir, config } = site({
    'web.config': wrap('<caching><profiles><add extension=".js" policy="DontCache"/></profiles></caching>'),
    'sub/web.config': wrap('<caching><profiles><add extension=".js" policy="DontCache"/></profiles></caching>'),
  });
  try {
    assert.equal(config.errors.length, 1);
    assert.equal(config.errors[0]!.code, 'NH_ERR_CONFIG_DUPLICATE_KEY');
    assert.equal(config.errors[0]!.source?.line, 3);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
