import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLoopbackAddress } from './is-loopback-address.js';

test('isLoopbackAddress: 127.0.0.0/8 and ::1 in every spelling, mapped or not', () => {
  for (const address of [
    '127.0.0.1',
    '127.0.0.2',
    '127.255.255.254',
    '127.1.2.3',
    '::1',
    '0:0:0:0:0:0:0:1',
    '0000:0000:0000:0000:0000:0000:0000:0001',
    '::0:1',
    '0::1',
    '::1%lo',
    '::ffff:127.0.0.1',
    '::FFFF:127.9.8.7',
    '::ffff:7f00:1',
    '0:0:0:0:0:ffff:127.0.0.1',
    '::ffff:7fff:ffff',
  ])
    assert.equal(isLoopbackAddress(address), true, address);
});

test('isLoopbackAddress: other addresses, names and junk are not loopback', () => {
  for (const address of [
    undefined,
    '',
    '10.0.0.1',
    '128.0.0.1',
    '126.255.255.255',
    '0.0.0.0',
    '::',
    '::2',
    '1::1',
    '::1:1',
    'fe80::1%lo',
    '::ffff:10.0.0.1',
    '::ffff:8000:1',
    '::ffff:0:127.0.0.1',
    '::127.0.0.1',
    '127.example.com',
    '127.0.0',
    'localhost',
    '0',
    '::1::',
  ])
    assert.equal(isLoopbackAddress(address), false, String(address));
});
