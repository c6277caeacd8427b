import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';

/**
 * children.ts owns every process the harness starts (fronts and load generators), so that
 * none is left behind: not after a run, not on an error, not on Ctrl-C.
 *
 * Each child is started in its own process group (`detached`). That lets a stop escalate to
 * SIGKILL of the whole group, which also takes down workers that a front started and failed
 * to reap. The price is that the terminal's Ctrl-C no longer reaches the children by itself,
 * so this module installs SIGINT/SIGTERM handlers that stop them, and an `exit` hook that
 * SIGKILLs whatever is still alive (it also runs after an uncaught exception).
 */

/** TAIL_BYTES is how much of a child's stdout and stderr is kept for error messages. */
const TAIL_BYTES = 8192;

/** Child is a started process with the tails of its output and a promise of its exit. */
export interface Child {
  readonly name: string;
  readonly proc: ChildProcess;
  readonly pid: number;
  /** exited resolves with the exit code (or the signal name) once the process is gone. */
  readonly exited: Promise<number | string>;
  /** hasExited is true once `exited` has resolved. */
  hasExited: boolean;
  /** stdoutTail and stderrTail return the last TAIL_BYTES of each stream. */
  stdoutTail(): string;
  stderrTail(): string;
}

const live = new Set<Child>();
/** groups holds the process groups not yet killed: a group outlives its leader's exit. */
const groups = new Set<number>();
let isHooked = false;

/**
 * startChild spawns `command args` as a tracked child. Its stdout and stderr are always
 * read (a full pipe would stall the server under load) and their tails kept; its stdin is a
 * pipe (`child.proc.stdin`) only with `hasStdin`, else /dev/null. It throws if
 * the process cannot be spawned at all.
 */
export function startChild(name: string, command: string, args: string[], options: SpawnOptions & { readonly hasStdin?: boolean } = {}): Child {
  hookProcessExit();
  const { hasStdin, ...spawnOptions } = options;
  const proc = spawn(command, args, { ...spawnOptions, detached: true, stdio: [hasStdin ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
  if (proc.pid === undefined) throw new Error(`${name}: could not start ${command}`);
  const out = tail(proc.stdout!);
  const err = tail(proc.stderr!);
  const child: Child = {
    name,
    proc,
    pid: proc.pid,
    hasExited: false,
    exited: new Promise((resolve) => {
      proc.once('exit', (code, signal) => {
        child.hasExited = true;
        live.delete(child);
        resolve(code ?? signal ?? 'unknown');
      });
    }),
    stdoutTail: out,
    stderrTail: err,
  };
  live.add(child);
  groups.add(child.pid);
  return child;
}

/**
 * stopChild sends SIGTERM to the child itself (a front must get the chance to shut its
 * workers down the way it would in production), waits up to `graceMs`, then SIGKILLs its
 * whole process group. It resolves with how the child ended: `exit N` or `killed`. After a
 * clean exit it leaves the group alone, so the caller can first check whether the child left
 * processes behind, and then call `killGroup`. Safe to call twice and after the child exited.
 */
export async function stopChild(child: Child, graceMs = 5000): Promise<string> {
  if (child.hasExited) return `exit ${await child.exited}`;
  signal(child.pid, 'SIGTERM');
  const code = await within(child.exited, graceMs);
  if (code !== undefined) return `exit ${code}`;
  killGroup(child);
  await within(child.exited, 1000);
  return 'killed';
}

/**
 * killGroup SIGKILLs every process left in the child's process group (workers that outlived
 * their parent) and forgets the group. ESRCH (nothing left) is the normal case.
 */
export function killGroup(child: Child): void {
  signal(-child.pid, 'SIGKILL');
  groups.delete(child.pid);
}

/** stopAll stops every live child at once and kills their groups; used on errors and Ctrl-C. */
export async function stopAll(graceMs = 2000): Promise<void> {
  await Promise.all([...live].map((c) => stopChild(c, graceMs)));
  for (const pgid of groups) signal(-pgid, 'SIGKILL');
  groups.clear();
}

/** liveChildren lists the children that have not exited yet (for leak checks). */
export function liveChildren(): readonly Child[] {
  return [...live];
}

/** delay resolves after `ms` milliseconds. */
export function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * within resolves with `promise`'s value, or with undefined once `ms` pass, and clears its
 * timer either way so that a finished wait does not hold the event loop open.
 */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([promise, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // ESRCH: already gone. EPERM cannot happen for our own children.
  }
}

function tail(stream: NodeJS.ReadableStream): () => string {
  let text = '';
  stream.setEncoding('utf8');
  stream.on('data', (chunk: string) => {
    text += chunk;
    if (text.length > 2 * TAIL_BYTES) text = text.slice(-TAIL_BYTES);
  });
  return () => text.slice(-TAIL_BYTES);
}

function hookProcessExit(): void {
  if (isHooked) return;
  isHooked = true;
  // Last line of defence: `exit` handlers must be synchronous, so no grace period here.
  process.on('exit', () => {
    for (const pgid of groups) signal(-pgid, 'SIGKILL');
  });
  let isStopping = false;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    // `on`, not `once`: with no listener a second Ctrl-C would kill node by the default
    // action, and then the `exit` hook would not run.
    process.on(sig, () => {
      if (isStopping) process.exit(130); // impatient second Ctrl-C: the exit hook SIGKILLs
      isStopping = true;
      process.stderr.write(`\nbench: ${sig}, stopping ${live.size} child process(es)\n`);
      void stopAll(1000).finally(() => process.exit(130));
    });
  }
}
