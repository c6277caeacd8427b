import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseProxyRange, type ProxyRange } from '../config/proxy-range.js';
import { TrustedProxies } from './trusted-proxies.js';

const proxies = new TrustedProxies(['127.0.0.1', '10.0.0.0/8', 'fd00::/8'].map((entry) => parseProxyRange(entry) as ProxyRange));

test('a trusted peer speaks for its client: the right-most untrusted hop of X-Forwarded-For, and X-Forwarded-Proto', () => {
  assert.deepEqual(proxies.client('127.0.0.1', false, { 'x-forwarded-for': '203.0.113.7', 'x-forwarded-proto': 'https' }), {
    address: '203.0.113.7',
    isHttps: true,
  });
  // Two balancers in a row (10.1.2.3 in front of 127.0.0.1): both skipped.
  assert.equal(proxies.client('127.0.0.1', false, { 'x-forwarded-for': '198.51.100.2, 10.1.2.3' }).address, '198.51.100.2');
  // A forged address in front of the one the balancer appended is not believed.
  assert.equal(proxies.client('127.0.0.1', false, { 'x-forwarded-for': '127.0.0.1, 6.6.6.6, 203.0.113.7' }).address, '203.0.113.7');
  // The nearest balancer's scheme (the last value) decides.
  assert.equal(proxies.client('10.0.0.1', true, { 'x-forwarded-proto': 'https, http' }).isHttps, false);
  assert.equal(proxies.client('fd00::5', false, { 'x-forwarded-for': '::ffff:203.0.113.9' }).address, '203.0.113.9');
});

test('without usable headers the peer stays the client; a hop that is no address ends the walk', () => {
  assert.deepEqual(proxies.client('127.0.0.1', false, {}), { address: '127.0.0.1', isHttps: false });
  assert.deepEqual(proxies.client('127.0.0.1', true, {}), { address: '127.0.0.1', isHttps: true });
  assert.equal(proxies.client('127.0.0.1', false, { 'x-forwarded-for': 'unknown' }).address, '127.0.0.1');
  assert.equal(proxies.client('127.0.0.1', false, { 'x-forwarded-for': '203.0.113.7, 10.0.0.9:4711' }).address, '127.0.0.1');
});

test('an untrusted peer is its own client, whatever its headers say', () => {
  assert.deepEqual(proxies.client('192.0.2.50', false, { 'x-forwarded-for': '127.0.0.1', 'x-forwarded-proto': 'https' }), {
    address: '192.0.2.50',
    isHttps: false,
  });
  assert.equal(proxies.isTrusted('11.0.0.1'), false);
  assert.equal(proxies.isTrusted('10.255.255.255'), true);
  assert.equal(proxies.isTrusted('not an address'), false);
});

test('an IPv4-mapped peer is read as IPv4', () => {
  assert.equal(proxies.client('::ffff:127.0.0.1', false, { 'x-forwarded-for': '203.0.113.7' }).address, '203.0.113.7');
  assert.equal(proxies.client('::ffff:192.0.2.50', false, {}).address, '192.0.2.50');
});

test('behind several trusted hops the walk stops at the first untrusted one, or at the last trusted one before a malformed hop', () => {
  const hop = (peer: string, xff: string | string[]) => proxies.client(peer, false, { 'x-forwarded-for': xff }).address;
  assert.equal(hop('10.0.0.5', '198.51.100.1, 203.0.113.7, 10.1.2.3'), '203.0.113.7');
  assert.equal(hop('10.0.0.5', ['198.51.100.1', '203.0.113.7']), '203.0.113.7');
  assert.equal(hop('fd00::1', '2001:db8::9'), '2001:db8::9');
  assert.equal(hop('10.0.0.5', 'evil, 10.0.0.9'), '10.0.0.9');
  assert.equal(hop('10.0.0.5', '10.0.0.8, 10.0.0.9'), '10.0.0.8');
});
