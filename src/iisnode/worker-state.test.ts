import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { test } from 'node:test';
import { WORKER_STATES, WORKER_TRANSITIONS, WorkerStateMachine, isLegalTransition, type WorkerState, type WorkerStateChange } from './worker-state.js';

/** The expected legal moves, written out independently of the table under test. */
const LEGAL = new Set([
  'starting>ready',
  'starting>stopping',
  'starting>unresponsive',
  'starting>exiting',
  'ready>draining',
  'ready>stopping',
  'ready>exiting',
  'draining>stopping',
  'draining>exiting',
  'stopping>exiting',
  'unresponsive>exiting',
  'exiting>exited',
  'exiting>failed',
]);

/** machineIn drives a fresh machine to `state` through legal moves. */
function machineIn(state: WorkerState): WorkerStateMachine {
  const path: Record<WorkerState, WorkerState[]> = {
    starting: [],
    ready: ['ready'],
    draining: ['ready', 'draining'],
    stopping: ['stopping'],
    unresponsive: ['unresponsive'],
    exiting: ['exiting'],
    exited: ['stopping', 'exiting', 'exited'],
    failed: ['exiting', 'failed'],
  };
  const machine = new WorkerStateMachine(1, '/srv/app.js');
  for (const step of path[state]) machine.transition(step, 'setup');
  assert.equal(machine.state, state);
  return machine;
}

for (const from of WORKER_STATES) {
  for (const to of WORKER_STATES) {
    const key = `${from}>${to}`;
    const isLegal = LEGAL.has(key);
    test(`worker state ${from} -> ${to} is ${isLegal ? 'legal' : 'illegal'}`, () => {
      assert.equal(isLegalTransition(from, to), isLegal);
      const machine = machineIn(from);
      if (isLegal) {
        machine.transition(to, 'test');
        assert.equal(machine.state, to);
      } else {
        assert.throws(() => machine.transition(to, 'test'), /illegal worker state transition/);
        assert.equal(machine.state, from, 'an illegal move leaves the state unchanged');
      }
    });
  }
}

test('the table has exactly the legal moves and final states have none', () => {
  let count = 0;
  for (const from of WORKER_STATES) count += Object.keys(WORKER_TRANSITIONS[from]).length;
  assert.equal(count, LEGAL.size);
  assert.equal(machineIn('exited').isFinal, true);
  assert.equal(machineIn('failed').isFinal, true);
  assert.equal(machineIn('ready').isFinal, false);
});

test('each transition is published on nodehost:worker:state', () => {
  const seen: WorkerStateChange[] = [];
  const onMessage = (message: unknown) => seen.push(message as WorkerStateChange);
  diagnosticsChannel.subscribe('nodehost:worker:state', onMessage);
  try {
    const machine = new WorkerStateMachine(7, '/srv/app.js');
    machine.pid = 4242;
    machine.transition('ready', 'socket accepted a connection');
    machine.transition('exiting', 'exited with code 1');
    assert.equal(machine.previous, 'ready', 'the state before exiting decides the verdict');
    machine.transition('exited', 'crashed');
    assert.throws(() => machine.transition('ready', 'no'));
  } finally {
    diagnosticsChannel.unsubscribe('nodehost:worker:state', onMessage);
  }
  assert.deepEqual(seen, [
    { workerId: 7, pid: 4242, scriptPath: '/srv/app.js', from: 'starting', to: 'ready', reason: 'socket accepted a connection' },
    { workerId: 7, pid: 4242, scriptPath: '/srv/app.js', from: 'ready', to: 'exiting', reason: 'exited with code 1' },
    { workerId: 7, pid: 4242, scriptPath: '/srv/app.js', from: 'exiting', to: 'exited', reason: 'crashed' },
  ]);
});
