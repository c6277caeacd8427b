/**
 * Recycler contract: which generation is pending, current or draining after each event, with
 * fake generations (no processes). Every move goes through the generation state machine, so an
 * illegal one would throw here.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { IisnodeSettings } from '../config/types.js';
import { HostLog } from '../host-log.js';
import type { Generation, GenerationListener } from './generation.js';
import { GenerationStateMachine } from './generation-state.js';
import { Recycler, type RecycleResult } from './recycler.js';
import { WorkerError } from './worker.js';

/** FakeGeneration has what the Recycler uses of a Generation; `finishClose()` ends its drain. */
interface FakeGeneration {
  readonly number: number;
  readonly settings: Readonly<IisnodeSettings>;
  readonly machine: GenerationStateMachine;
  readonly startedAt: number;
  readonly pool: { isStarted: boolean; hasReadyWorker: boolean; start(): void };
  isDestroyed: boolean;
  close(): Promise<void>;
  destroy(): void;
  finishClose(): void;
}

function fixture(): { recycler: Recycler; made: FakeGeneration[]; listener: () => GenerationListener; settledCount: () => number } {
  const made: FakeGeneration[] = [];
  let listener: GenerationListener | undefined;
  let settled = 0;
  const recycler = new Recycler({
    scriptPath: '/srv/app.js',
    log: new HostLog({ write: () => true } as unknown as NodeJS.WritableStream, false),
    createGeneration: (number, settings, _appSettings, l) => {
      listener = l;
      let finish!: () => void;
      const closed = new Promise<void>((resolve) => (finish = resolve));
      const generation: FakeGeneration = {
        number,
        settings,
        machine: new GenerationStateMachine('/srv/app.js', number),
        startedAt: Date.now(),
        pool: {
          isStarted: false,
          hasReadyWorker: false,
          start() {
            this.isStarted = true;
          },
        },
        isDestroyed: false,
        close: () => closed,
        destroy() {
          this.isDestroyed = true;
        },
        finishClose: finish,
      };
      made.push(generation);
      return generation as unknown as Generation;
    },
    onSettled: () => settled++,
  });
  return { recycler, made, listener: () => listener!, settledCount: () => settled };
}

const normal = { recycleKeepsOldOnFailure: false } as IisnodeSettings;
const keepsOld = { recycleKeepsOldOnFailure: true } as IisnodeSettings;
const failure = new WorkerError('NH_ERR_WORKER_EXITED_BEFORE_READY', 'exited', 'SyntaxError', 42);

function asGeneration(fake: FakeGeneration): Generation {
  return fake as unknown as Generation;
}

test('the first generation is current at once and started', () => {
  const { recycler, made } = fixture();
  recycler.startFirst(normal, []);
  assert.equal(made[0]!.machine.state, 'current');
  assert.equal(made[0]!.pool.isStarted, true);
  assert.equal(recycler.current, asGeneration(made[0]!));
  assert.equal(recycler.pending, undefined);
});

test('a recycle: the old generation drains at once; the new one is current once it serves, then the old one closes', async () => {
  const { recycler, made, listener, settledCount } = fixture();
  recycler.startFirst(normal, []);
  const settled = recycler.whenSettled();
  recycler.start(normal, []);
  const [old, next] = made as [FakeGeneration, FakeGeneration];
  assert.equal(old.machine.state, 'draining');
  assert.equal(next.machine.state, 'pending');
  assert.equal(recycler.current, undefined, 'no generation takes requests: they wait for the pending one');
  assert.equal(recycler.draining, 1);
  listener().onGenerationServing(asGeneration(next));
  assert.equal(next.machine.state, 'current');
  assert.equal(settledCount(), 1);
  assert.deepEqual(await settled, { generation: 2, isServing: true } satisfies RecycleResult);
  old.finishClose();
  await old.close();
  await Promise.resolve();
  assert.equal(old.machine.state, 'closed');
  assert.equal(recycler.draining, 0);
});

test('recycleKeepsOldOnFailure: the old generation stays current until the new one serves', () => {
  const { recycler, made, listener } = fixture();
  recycler.startFirst(keepsOld, []);
  recycler.start(keepsOld, []);
  const [old, next] = made as [FakeGeneration, FakeGeneration];
  assert.equal(old.machine.state, 'current');
  assert.equal(next.machine.state, 'pending');
  listener().onGenerationServing(asGeneration(next));
  assert.equal(old.machine.state, 'draining');
  assert.equal(recycler.current, asGeneration(next));
});

test('recycleKeepsOldOnFailure: a start that fails drains the new generation and keeps the old one', async () => {
  const { recycler, made, listener } = fixture();
  recycler.startFirst(keepsOld, []);
  made[0]!.pool.hasReadyWorker = true;
  const settled = recycler.whenSettled();
  recycler.start(keepsOld, []);
  const [old, next] = made as [FakeGeneration, FakeGeneration];
  listener().onGenerationFailed(asGeneration(next), failure);
  assert.equal(old.machine.state, 'current');
  assert.equal(next.machine.state, 'draining');
  const result = await settled;
  assert.equal(result.isServing, false);
  assert.equal(result.generation, 1);
  assert.match(recycler.lastRecycleError, /NH_ERR_WORKER_EXITED_BEFORE_READY/);
});

test('without recycleKeepsOldOnFailure a failed start becomes current: its failure is the answer, as in iisnode', async () => {
  const { recycler, made, listener } = fixture();
  recycler.startFirst(normal, []);
  const settled = recycler.whenSettled();
  recycler.start(normal, []);
  listener().onGenerationFailed(asGeneration(made[1]!), failure);
  assert.equal(made[1]!.machine.state, 'current');
  assert.equal((await settled).isServing, false);
});

test('a recycle while a generation is still starting replaces it; a late verdict of the replaced one is ignored', () => {
  const { recycler, made, listener } = fixture();
  recycler.startFirst(normal, []);
  recycler.start(normal, []);
  recycler.start(normal, []);
  const [, replaced, newest] = made as [FakeGeneration, FakeGeneration, FakeGeneration];
  assert.equal(replaced.machine.state, 'draining');
  assert.equal(newest.machine.state, 'pending');
  listener().onGenerationServing(asGeneration(replaced));
  assert.equal(replaced.machine.state, 'draining');
  assert.equal(recycler.pending, asGeneration(newest));
  assert.equal(recycler.recycles, 2);
});

test('close drains every generation and resolves when all are closed; destroy kills them', async () => {
  const { recycler, made } = fixture();
  recycler.startFirst(keepsOld, []);
  recycler.start(keepsOld, []);
  const closing = recycler.close();
  for (const generation of made) assert.equal(generation.machine.state, 'draining');
  recycler.destroy();
  for (const generation of made) assert.equal(generation.isDestroyed, true);
  for (const generation of made) generation.finishClose();
  await closing;
  for (const generation of made) assert.equal(generation.machine.state, 'closed');
});
