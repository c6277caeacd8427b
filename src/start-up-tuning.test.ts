/**
 * startUpTuning: TurboFan is off and the young generation does not grow between begin() and
 * end(), and both are back after end(); a flag the operator gave node is left as it was;
 * end({ compactHeap: true }) gives back the old generation's part-empty pages and exposes no
 * gc() afterwards. Each case runs in its own node process (the flags are process-wide), which
 * reports what it saw through V8's own answers: %GetOptimizationStatus and the spaces' sizes.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { describe, test } from 'node:test';

const MODULE = new URL('./start-up-tuning.ts', import.meta.url).href;

/** The child leaves most of 300,000 old objects garbage, then ends the tuning with a compacting GC. */
const COMPACT_SCRIPT = `
import { getHeapSpaceStatistics } from 'node:v8';
import { runInNewContext } from 'node:vm';
const { startUpTuning } = await import(${JSON.stringify(MODULE)});
const oldSpace = () => getHeapSpaceStatistics().find((space) => space.space_name === 'old_space').space_size;
const gc = new Function('%CollectGarbage(0)');
startUpTuning.begin();
let kept = [];
for (let i = 0; i < 300000; i++) kept.push({ i, text: 'x' + i });
gc();
gc();
kept = kept.filter((_, i) => i % 10 === 0);
gc();
const before = oldSpace();
startUpTuning.end({ compactHeap: true });
process.stdout.write(JSON.stringify({ before, after: oldSpace(), kept: kept.length, gcInNewContext: runInNewContext('typeof gc') }));
`;

/** The child asks V8 to optimize a fresh function in each state and grows the heap with survivors. */
const SCRIPT = `
import { getHeapSpaceStatistics } from 'node:v8';
const { startUpTuning } = await import(${JSON.stringify(MODULE)});
const status = new Function('f', 'return %GetOptimizationStatus(f)');
const ask = new Function('f', '%PrepareFunctionForOptimization(f); f(1); f(2); %OptimizeFunctionOnNextCall(f); f(3);');
// Bit 4 of the status is "optimized".
const isOptimized = () => { const f = new Function('x', 'return x + 1'); ask(f); return (status(f) & 16) !== 0; };
const newSpace = () => getHeapSpaceStatistics().find((space) => space.space_name === 'new_space').space_size;
const kept = [];
const survive = () => { for (let i = 0; i < 200000; i++) kept.push({ i, text: 'x' + i }); };
const report = { before: { isOptimized: isOptimized(), newSpace: newSpace() } };
startUpTuning.begin();
survive();
report.during = { isOptimized: isOptimized(), newSpace: newSpace(), isOn: startUpTuning.isOn };
startUpTuning.end();
startUpTuning.end();
survive();
survive();
report.after = { isOptimized: isOptimized(), newSpace: newSpace(), isOn: startUpTuning.isOn };
process.stdout.write(JSON.stringify(report));
`;

interface Report {
  before: { isOptimized: boolean; newSpace: number };
  during: { isOptimized: boolean; newSpace: number; isOn: boolean };
  after: { isOptimized: boolean; newSpace: number; isOn: boolean };
}

function runChild<T = Report>(nodeFlags: readonly string[], script = SCRIPT): T {
  const child = spawnSync(process.execPath, [...nodeFlags, '--import', 'tsx', '--allow-natives-syntax', '--input-type=module', '-e', script], {
    encoding: 'utf8',
    env: { ...process.env, NODE_OPTIONS: '' },
  });
  assert.equal(child.status, 0, child.stderr);
  return JSON.parse(child.stdout) as T;
}

describe('startUpTuning', () => {
  test('holds TurboFan and the young generation between begin and end, then gives both back', () => {
    const report = runChild([]);
    assert.equal(report.before.isOptimized, true);
    assert.deepEqual(
      { isOptimized: report.during.isOptimized, isOn: report.during.isOn },
      { isOptimized: false, isOn: true },
      'TurboFan optimized during start-up',
    );
    assert.ok(report.during.newSpace <= report.before.newSpace, `the young generation grew during start-up: ${JSON.stringify(report)}`);
    assert.deepEqual({ isOptimized: report.after.isOptimized, isOn: report.after.isOn }, { isOptimized: true, isOn: false });
    assert.ok(report.after.newSpace > report.during.newSpace, `the young generation did not grow after end(): ${JSON.stringify(report)}`);
  });

  test("leaves a flag given on node's command line as it was", () => {
    const report = runChild(['--no-turbofan']);
    assert.equal(report.before.isOptimized, false);
    assert.equal(report.after.isOptimized, false, 'end() turned on a TurboFan the operator had turned off');
    // The young generation was not the operator's: it is held and given back as usual.
    assert.ok(report.after.newSpace > report.during.newSpace);
  });

  test('end({ compactHeap: true }) gives back the pages garbage left part-empty, and leaves no gc() behind', () => {
    const report = runChild<{ before: number; after: number; kept: number; gcInNewContext: string }>([], COMPACT_SCRIPT);
    assert.equal(report.kept, 30000);
    // A full GC without compaction keeps every page that holds one live object (before).
    assert.ok(report.after < report.before / 2, `the old generation was not compacted: ${JSON.stringify(report)}`);
    assert.equal(report.gcInNewContext, 'undefined');
  });
});
