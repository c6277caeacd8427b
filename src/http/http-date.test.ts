import assert from 'node:assert/strict';
import { test } from 'node:test';
import { httpDate } from './http-date.js';

test('httpDate is the IMF-fixdate of the current second', (t) => {
  t.mock.timers.enable({ apis: ['Date'], now: Date.UTC(1994, 10, 6, 8, 49, 37, 250) });
  assert.equal(httpDate(), 'Sun, 06 Nov 1994 08:49:37 GMT');
  t.mock.timers.tick(700);
  assert.equal(httpDate(), 'Sun, 06 Nov 1994 08:49:37 GMT', 'the same second keeps its text');
  t.mock.timers.tick(100);
  assert.equal(httpDate(), 'Sun, 06 Nov 1994 08:49:38 GMT', 'the next second is formatted anew');
});
