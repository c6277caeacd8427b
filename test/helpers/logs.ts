/** Helpers for the log tests: wait for a condition on the files of a log folder within a bound. */
import fs from 'node:fs';

/**
 * waitFor re-checks `condition` on every change in `dir` (and every 50 ms as a safety net) until it
 * returns a value, at most `withinMs`; rejects naming `what` after that.
 */
export async function waitFor<T>(dir: string, condition: () => T | undefined, what: string, withinMs = 20_000): Promise<T> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const value = condition();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise<void>((resolve) => {
      let watcher: fs.FSWatcher | undefined;
      const done = () => {
        clearTimeout(timer);
        watcher?.close();
        resolve();
      };
      const timer = setTimeout(done, 50);
      try {
        watcher = fs.watch(dir, done);
      } catch {
        // Not there yet.
      }
    });
  }
}
