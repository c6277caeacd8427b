import assert from 'node:assert/strict';
import { test } from 'node:test';
import { processShare } from './front-door-share.js';

function shares(processes: number, count: number): number[] {
  return Array.from({ length: count }, (_, index) => processShare(processes, { index, count }));
}

test('one front door (or none) runs every process', () => {
  assert.equal(processShare(4, undefined), 4);
  assert.equal(processShare(4, { index: 0, count: 1 }), 4);
});

test('processes are split evenly, the first front doors taking the remainder', () => {
  assert.deepEqual(shares(4, 2), [2, 2]);
  assert.deepEqual(shares(2, 2), [1, 1]);
  assert.deepEqual(shares(5, 2), [3, 2]);
  assert.deepEqual(shares(7, 3), [3, 2, 2]);
  assert.deepEqual(shares(8, 3), [3, 3, 2]);
});

test('every front door runs at least one process, even with fewer processes than front doors', () => {
  assert.deepEqual(shares(1, 2), [1, 1]);
  assert.deepEqual(shares(2, 4), [1, 1, 1, 1]);
  assert.deepEqual(shares(5, 4), [2, 1, 1, 1]);
});
