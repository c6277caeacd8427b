import assert from 'node:assert/strict';
import { test } from 'node:test';
import { orderReason, renewAt } from './acme-certificates.js';
import { TEMPORARY_ISSUER } from './temporary-certificate.js';

const DAY = 24 * 3600 * 1000;

test('a certificate is due a third of its lifetime before it ends, at most 30 days before', () => {
  assert.equal(renewAt(0, 90 * DAY), 60 * DAY);
  assert.equal(renewAt(0, 365 * DAY), 335 * DAY);
  assert.equal(renewAt(0, 6000), 4000);
});

test('an order is due for none, the temporary certificate, other names or renewal; not otherwise', () => {
  const stored = { issuer: 'Some CA', names: ['b.test', 'a.test'], notBefore: 0, notAfter: 90 * DAY };
  assert.equal(orderReason(undefined, ['a.test'], 0), 'first certificate');
  assert.equal(orderReason({ ...stored, issuer: TEMPORARY_ISSUER }, ['a.test', 'b.test'], 0), 'first certificate');
  assert.equal(orderReason(stored, ['a.test'], 0), 'names changed');
  assert.equal(orderReason(stored, ['a.test', 'b.test'], 60 * DAY), 'renewal');
  assert.equal(orderReason(stored, ['a.test', 'b.test'], 60 * DAY - 1), undefined);
});
