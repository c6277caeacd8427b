import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFdLimit } from './fd-limits.js';

const LIMITS = `Limit                     Soft Limit           Hard Limit           Units
Max cpu time              unlimited            unlimited            seconds
Max processes             63432                63432                processes
Max open files            1024                 524288               files
Max locked memory         8388608              8388608              bytes
`;

test('parseFdLimit reads the soft and hard limit of open files', () => {
  assert.deepEqual(parseFdLimit(LIMITS), { soft: 1024, hard: 524288 });
  assert.deepEqual(parseFdLimit('Max open files            20000                unlimited            files\n'), { soft: 20000, hard: Infinity });
});

test('parseFdLimit names what is missing', () => {
  assert.throws(() => parseFdLimit('Max processes 10 10 processes\n'), /Max open files/);
});
