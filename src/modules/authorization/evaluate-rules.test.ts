import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { SecurityMerge } from '../../config/security-config.js';
import { parseWebConfig } from '../../config/web-config.js';
import type { SecurityConfig } from '../../config/security-types.js';
import type { NodehostError } from '../../errors.js';
import { isAddressAllowed } from '../ip-security/ip-security.js';
import { isAllowAll, isAuthorized } from './evaluate-rules.js';

/** compile merges the security of web.config texts, root level first, as folder-merge.ts does. */
function compile(...levels: string[]): { config: SecurityConfig; errors: NodehostError[] } {
  let merge = new SecurityMerge();
  const errors: NodehostError[] = [];
  levels.forEach((security, i) => {
    const file = parseWebConfig(
      `<configuration>\n<system.webServer>\n<security>\n${security}\n</security>\n</system.webServer>\n</configuration>`,
      `/site/${i}/web.config`,
      '/',
    );
    errors.push(...file.errors, ...file.top.errors);
    if (file.top.security) merge.apply(file.top.security, errors);
    merge = new SecurityMerge(merge);
  });
  return { config: merge.freeze(), errors };
}

function rules(...levels: string[]) {
  const { config, errors } = compile(...levels);
  assert.deepEqual(errors.map(String), []);
  return config.authorization.rules;
}

describe('URL Authorization rules', () => {
  test('the built-in default allows everyone, and is recognised as such', () => {
    const all = rules('');
    assert.equal(isAllowAll(all), true);
    assert.equal(isAuthorized(all, '', [], 'GET'), true);
  });

  test('users: * everyone, ? anonymous, names without case; no match denies', () => {
    const r = rules('<authorization><clear/><add accessType="Allow" users="Alice, bob"/><add accessType="Allow" users="?" verbs="GET"/></authorization>');
    assert.equal(isAuthorized(r, 'alice', [], 'POST'), true);
    assert.equal(isAuthorized(r, 'BOB', [], 'GET'), true);
    assert.equal(isAuthorized(r, 'carol', [], 'GET'), false);
    assert.equal(isAuthorized(r, '', [], 'GET'), true);
    assert.equal(isAuthorized(r, '', [], 'POST'), false);
  });

  test("roles match any of the user's roles", () => {
    const r = rules('<authorization><clear/><add accessType="Allow" roles="Admins,ops"/></authorization>');
    assert.equal(isAuthorized(r, 'x', ['staff', 'ops'], 'GET'), true);
    assert.equal(isAuthorized(r, 'x', ['staff'], 'GET'), false);
    assert.equal(isAuthorized(r, '', [], 'GET'), false);
  });

  test("deny rules come before allow rules, inherited rules before a level's own", () => {
    const r = rules(
      '<authorization><add accessType="Deny" users="mallory"/></authorization>',
      '<authorization><add accessType="Allow" users="eve"/><add accessType="Deny" users="eve" verbs="DELETE"/></authorization>',
    );
    assert.deepEqual(
      r.map((rule) => rule.isAllow),
      [false, false, true, true],
    );
    assert.equal(isAuthorized(r, 'mallory', [], 'GET'), false, 'inherited deny beats the built-in allow');
    assert.equal(isAuthorized(r, 'eve', [], 'GET'), true);
    assert.equal(isAuthorized(r, 'eve', [], 'DELETE'), false, 'a later deny still wins over an earlier allow');
  });

  test('<remove> names a rule by all its attributes; <clear/> without rules denies everyone', () => {
    const removed = rules('<authorization><remove accessType="Allow" users="*"/><add accessType="Allow" users="alice"/></authorization>');
    assert.equal(isAuthorized(removed, 'bob', [], 'GET'), false);
    assert.equal(isAuthorized(removed, 'alice', [], 'GET'), true);
    assert.equal(isAuthorized(rules('<authorization><clear/></authorization>'), 'alice', [], 'GET'), false);
  });

  test('errors name file:line', () => {
    const { errors } = compile(
      '<authorization>\n<add users="x"/>\n<add accessType="Maybe" users="y"/>\n<add accessType="Allow"/>\n<deny users="z"/>\n</authorization>',
    );
    assert.deepEqual(
      errors.map((error) => `${error.code} ${error.where()}`),
      [
        'NH_ERR_CONFIG_MISSING_ATTRIBUTE /site/0/web.config:5:1',
        'NH_ERR_CONFIG_BAD_VALUE /site/0/web.config:6:6',
        'NH_ERR_CONFIG_BAD_VALUE /site/0/web.config:7:1',
        'NH_ERR_CONFIG_UNKNOWN_ELEMENT /site/0/web.config:8:1',
      ],
    );
  });

  test('a repeated rule is a duplicate key error', () => {
    const { errors } = compile('<authorization><add accessType="Allow" users="a"/><add accessType="allow" users="A"/></authorization>');
    assert.deepEqual(
      errors.map((error) => error.code),
      ['NH_ERR_CONFIG_DUPLICATE_KEY'],
    );
  });
});

describe('ipSecurity entries', () => {
  test('addresses, masks, prefix lengths and CIDR, IPv4 and IPv6; the first match decides', () => {
    const { config, errors } = compile(`<ipSecurity allowUnlisted="false">
      <add ipAddress="10.1.2.3" allowed="false"/>
      <add ipAddress="10.0.0.0" subnetMask="255.0.0.0" allowed="true"/>
      <add ipAddress="192.168.0.0/16" allowed="true"/>
      <add ipAddress="2001:db8::" subnetMask="32" allowed="true"/>
      <add ipAddress="fd00::" subnetMask="ffff:ffff::" allowed="true"/>
    </ipSecurity>`);
    assert.deepEqual(errors.map(String), []);
    const ip = config.ipSecurity!;
    assert.equal(isAddressAllowed(ip, '10.1.2.3'), false);
    assert.equal(isAddressAllowed(ip, '10.200.0.1'), true);
    assert.equal(isAddressAllowed(ip, '192.168.7.7'), true);
    assert.equal(isAddressAllowed(ip, '172.16.0.1'), false, 'unlisted');
    assert.equal(isAddressAllowed(ip, '2001:db8:1::5'), true);
    assert.equal(isAddressAllowed(ip, 'fd00:0:1::1'), true);
    assert.equal(isAddressAllowed(ip, 'fd01::1'), false);
    assert.equal(isAddressAllowed(ip, '::1'), false);
  });

  test('no entries and allowUnlisted: nothing to check', () => {
    assert.equal(compile('<ipSecurity/>').config.ipSecurity, undefined);
    assert.equal(compile('').config.dynamicIpSecurity, undefined);
  });

  test('bad addresses and masks, domain names and proxy mode are errors with file:line', () => {
    const { errors } = compile(
      '<ipSecurity enableProxyMode="true">\n<add ipAddress="10.0.0.300"/>\n<add ipAddress="10.0.0.0" subnetMask="255.0.255.0"/>\n<add domainName="example.com"/>\n</ipSecurity>',
    );
    assert.deepEqual(
      errors.map((error) => error.where().replace(/:\d+$/, '')),
      ['/site/0/web.config:4', '/site/0/web.config:5', '/site/0/web.config:6', '/site/0/web.config:7'],
    );
  });

  test('dynamicIpSecurity defaults of IIS', () => {
    const dynamic = compile('<dynamicIpSecurity><denyByConcurrentRequests enabled="true"/><denyByRequestRate enabled="true"/></dynamicIpSecurity>').config
      .dynamicIpSecurity!;
    assert.deepEqual({ ...dynamic }, { denyAction: 'Forbidden', maxConcurrentRequests: 5, maxRequests: 20, requestIntervalMs: 200 });
  });
});
