/**
 * startUpTuning keeps V8 lean while nodehost loads its modules and reads its configuration,
 * and gives V8 its defaults back once the host serves (docs/performance.md, "Start-up and idle
 * memory"). bin/nodehost calls `begin()` before it loads the program; `serve` calls `end()`
 * once it is ready, every other command as it starts. Both are idempotent.
 *
 * While it is on:
 * - TurboFan is off. Start-up code runs once, so optimizing it pays nothing back, and its
 *   compile jobs cost memory that stays: the malloc arenas of V8's helper threads and the
 *   compiler's pages of the node binary, about 10 MiB of RSS measured. Hot request code is
 *   optimized as usual after `end()`.
 * - The young generation keeps its initial size (`--semi-space-growth-factor=1`). The start-up's
 *   many survivors would otherwise grow it to 16 MiB, and the pages it touched stay resident
 *   (about 5 MiB) until V8's memory reducer runs, 8 s or more after the last full GC. After
 *   `end()` it grows under load as before: for the whole life this flag cost 35-50 % more CPU
 *   per request.
 *
 * `end({ compactHeap: true })`, which `serve` uses, first runs one full GC that compacts the old
 * generation: the start-up leaves its pages part-empty (parsed configuration, module loading),
 * and only a compacting GC gives such pages back; V8 would do it itself once the host had been
 * idle for 8 s or more (its memory reducer). It costs one pause of 10-30 ms, measured, and about
 * 2 MiB of RSS less. The GC is V8's `gc()`, exposed for the new context that fetches it only.
 *
 * A flag given on node's command line or in NODE_OPTIONS is the operator's and is left alone.
 * Flags set from JavaScript are read by V8 as it goes (the two above are, as measured: V8
 * documents no promise for any flag), so this must never change what a program computes.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Each tuned flag: how V8 spells it (with dashes), its value during start-up, its default. */
const FLAGS = [
  { name: 'turbofan', startUp: '--no-turbofan', normal: '--turbofan' },
  { name: 'semi-space-growth-factor', startUp: '--semi-space-growth-factor=1', normal: '--semi-space-growth-factor=2' },
] as const;

/** `--opt` is V8's alias of `--turbofan`. */
const ALIASES: Readonly<Record<string, string>> = { opt: 'turbofan' };

/** operatorFlags lists the V8 flag names given to node by the operator, dashes for underscores, without `no-`. */
function operatorFlags(): Set<string> {
  const words = [...process.execArgv, ...(process.env.NODE_OPTIONS ?? '').split(/\s+/)];
  const names = new Set<string>();
  for (const word of words) {
    const match = /^--(?:no-)?([\w-]+)/.exec(word);
    if (match === null) continue;
    const name = match[1]!.replaceAll('_', '-');
    names.add(ALIASES[name] ?? name);
  }
  return names;
}

let tuned: (typeof FLAGS)[number][] | undefined;
/** The operator's V8 flags, read by begin(). */
let given = new Set<string>();

/** compactHeap runs one full GC that compacts, leaving the flags it needs as the operator had them. */
function compactHeap(): void {
  const isExposed = given.has('expose-gc');
  if (!isExposed) setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  if (!isExposed) setFlagsFromString('--no-expose-gc');
  const isCompacting = given.has('compact-on-every-full-gc');
  if (!isCompacting) setFlagsFromString('--compact-on-every-full-gc');
  gc();
  if (!isCompacting) setFlagsFromString('--no-compact-on-every-full-gc');
}

/** startUpTuning is the one switch of the start-up flags (see the file comment): begin, end, and whether they are on. */
export const startUpTuning = {
  /** begin sets the start-up flags the operator did not set; a second call does nothing. */
  begin(): void {
    if (tuned !== undefined) return;
    given = operatorFlags();
    tuned = FLAGS.filter((flag) => !given.has(flag.name));
    for (const flag of tuned) setFlagsFromString(flag.startUp);
  },
  /**
   * end gives back V8's defaults for what begin set, after a compacting GC when `compactHeap`
   * (a long-running process, at the end of its start-up); a no-op when begin was not called or
   * end already ran.
   */
  end(options: { readonly compactHeap?: boolean } = {}): void {
    if (tuned === undefined) return;
    // While the young generation is still held: this GC's survivors must not grow it.
    if (options.compactHeap === true) compactHeap();
    for (const flag of tuned) setFlagsFromString(flag.normal);
    tuned = [];
  },
  /** isOn tells whether the start-up flags are in force. */
  get isOn(): boolean {
    return tuned !== undefined && tuned.length > 0;
  },
};
