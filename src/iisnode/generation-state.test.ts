import assert from 'node:assert/strict';
import diagnosticsChannel from 'node:diagnostics_channel';
import { test } from 'node:test';
import {
  GENERATION_STATES,
  GENERATION_TRANSITIONS,
  GenerationStateMachine,
  isLegalGenerationTransition,
  type GenerationState,
  type GenerationStateChange,
} from './generation-state.js';

/** The expected legal moves, written out independently of the table under test. */
const LEGAL = new Set(['pending>current', 'pending>draining', 'current>draining', 'draining>closed']);

/** machineIn drives a fresh machine to `state` through legal moves. */
function machineIn(state: GenerationState): GenerationStateMachine {
  const path: Record<GenerationState, GenerationState[]> = {
    pending: [],
    current: ['current'],
    draining: ['current', 'draining'],
    closed: ['draining', 'closed'],
  };
  const machine = new GenerationStateMachine('/srv/app.js', 2);
  for (const step of path[state]) machine.transition(step, 'setup');
  assert.equal(machine.state, state);
  return machine;
}

for (const from of GENERATION_STATES) {
  for (const to of GENERATION_STATES) {
    const key = `${from}>${to}`;
    const isLegal = LEGAL.has(key);
    test(`generation state ${from} -> ${to} is ${isLegal ? 'legal' : 'illegal'}`, () => {
      assert.equal(isLegalGenerationTransition(from, to), isLegal);
      const machine = machineIn(from);
      assert.equal(machine.canMoveTo(to), isLegal);
      if (isLegal) {
        machine.transition(to, 'test');
        assert.equal(machine.state, to);
      } else {
        assert.throws(() => machine.transition(to, 'test'), /illegal generation state transition/);
        assert.equal(machine.state, from, 'an illegal move leaves the state unchanged');
      }
    });
  }
}

test('the generation table has exactly the legal moves, each described, and closed is final', () => {
  let count = 0;
  for (const from of GENERATION_STATES) {
    for (const [to, when] of Object.entries(GENERATION_TRANSITIONS[from])) {
      count++;
      assert.ok(LEGAL.has(`${from}>${to}`), `${from} -> ${to}`);
      assert.ok(when !== undefined && when.length > 0, `${from} -> ${to} says when`);
    }
  }
  assert.equal(count, LEGAL.size);
  assert.deepEqual(Object.keys(GENERATION_TRANSITIONS.closed), []);
});

test('each generation transition is published on nodehost:generation:state', () => {
  const seen: GenerationStateChange[] = [];
  const onMessage = (message: unknown) => seen.push(message as GenerationStateChange);
  diagnosticsChannel.subscribe('nodehost:generation:state', onMessage);
  try {
    const machine = new GenerationStateMachine('/srv/app.js', 3);
    machine.transition('current', 'all workers ready');
    assert.throws(() => machine.transition('pending', 'no'));
    machine.transition('draining', 'replaced');
  } finally {
    diagnosticsChannel.unsubscribe('nodehost:generation:state', onMessage);
  }
  assert.deepEqual(seen, [
    { scriptPath: '/srv/app.js', generation: 3, from: 'pending', to: 'current', reason: 'all workers ready' },
    { scriptPath: '/srv/app.js', generation: 3, from: 'current', to: 'draining', reason: 'replaced' },
  ]);
});
