import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RoundRobinPolicy, type SelectableWorker } from './selection.js';

function fakePool(...specs: [boolean, number][]): SelectableWorker[] {
  return specs.map(([isReady, active]) => ({ isReady, active }));
}

function pick(policy: RoundRobinPolicy, workers: SelectableWorker[], max: number, times: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < times; i++) out.push(policy.select(workers, max));
  return out;
}

test('round robin rotates strictly over idle ready workers', () => {
  const policy = new RoundRobinPolicy();
  assert.deepEqual(pick(policy, fakePool([true, 0], [true, 0], [true, 0]), 10, 7), [0, 1, 2, 0, 1, 2, 0]);
});

test('round robin skips workers that are not ready', () => {
  const policy = new RoundRobinPolicy();
  assert.deepEqual(pick(policy, fakePool([true, 0], [false, 0], [true, 0]), 10, 4), [0, 2, 0, 2]);
});

test('round robin skips full workers and returns -1 when all are full', () => {
  const policy = new RoundRobinPolicy();
  const workers = fakePool([true, 2], [true, 1], [true, 2]);
  assert.deepEqual(pick(policy, workers, 2, 2), [1, 1]);
  const full = fakePool([true, 2], [true, 2]);
  assert.equal(policy.select(full, 2), -1);
});

test('round robin returns -1 when no worker is ready or the pool is empty', () => {
  const policy = new RoundRobinPolicy();
  assert.equal(policy.select(fakePool([false, 0], [false, 0]), 5), -1);
  assert.equal(policy.select([], 5), -1);
});

test('round robin continues after the last chosen worker', () => {
  const policy = new RoundRobinPolicy();
  const workers = fakePool([true, 0], [true, 0], [true, 0]);
  assert.equal(policy.select(workers, 1), 0);
  workers[1] = { isReady: true, active: 1 };
  assert.equal(policy.select(workers, 1), 2);
  assert.equal(policy.select(workers, 1), 0);
});
