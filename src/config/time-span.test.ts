import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseTimeSpan } from './time-span.js';

test('parseTimeSpan reads hh:mm:ss, d.hh:mm:ss and fractions', () => {
  assert.equal(parseTimeSpan('00:00:30'), 30_000);
  assert.equal(parseTimeSpan(' 01:02:03 '), 3_723_000);
  assert.equal(parseTimeSpan('1.00:00:00'), 86_400_000);
  assert.equal(parseTimeSpan('7.00:00:00'), 604_800_000);
  assert.equal(parseTimeSpan('00:00:00.5'), 500);
  assert.equal(parseTimeSpan('00:00:00'), 0);
});

test('parseTimeSpan refuses what is not a timeSpan', () => {
  for (const bad of ['', '30', '1s', '00:60:00', '24:00:00', '-00:00:01', '00:00', 'a.00:00:00', '00:00:00.', '1:2:3:4']) {
    assert.equal(parseTimeSpan(bad), undefined, bad);
  }
});
