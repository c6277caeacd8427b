import assert from 'node:assert/strict';
import { BlockList } from 'node:net';
import { test } from 'node:test';
import { forwardedClient } from './forwarded-client.js';

const trusted = new BlockList();
trusted.addSubnet('10.0.0.0', 8);
trusted.addAddress('::1', 'ipv6');

test('forwardedClient reads X-Forwarded-For from the right, behind trusted proxies only', () => {
  assert.equal(forwardedClient('10.0.0.5', '203.0.113.7', trusted), '203.0.113.7');
  assert.equal(forwardedClient('10.0.0.5', '198.51.100.1, 203.0.113.7, 10.1.2.3', trusted), '203.0.113.7');
  assert.equal(forwardedClient('10.0.0.5', ['198.51.100.1', '203.0.113.7'], trusted), '203.0.113.7');
  assert.equal(forwardedClient('::1', '2001:db8::9', trusted), '2001:db8::9');
  // An untrusted peer's header is ignored.
  assert.equal(forwardedClient('192.0.2.1', '203.0.113.7', trusted), '192.0.2.1');
  assert.equal(forwardedClient('10.0.0.5', undefined, trusted), '10.0.0.5');
  // Garbage ends the walk at the last trusted hop; only trusted hops: the leftmost.
  assert.equal(forwardedClient('10.0.0.5', 'evil, 10.0.0.9', trusted), '10.0.0.9');
  assert.equal(forwardedClient('10.0.0.5', '10.0.0.8, 10.0.0.9', trusted), '10.0.0.8');
  assert.equal(forwardedClient('10.0.0.5', '::ffff:203.0.113.7', trusted), '203.0.113.7');
});
