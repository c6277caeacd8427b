/**
 * Helpers for the recycle tests: copy a test site to a temp folder, rewrite its files, and wait
 * for observable events (a response body, a file, a host log line) within a bound.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fetchRaw, SITES, type Reply } from './nodehost.js';

/** copySite copies test/sites/<name> to a fresh temp folder and returns its path. */
export function copySite(name: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `nh-${name}-`));
  fs.cpSync(path.join(SITES, name), dir, { recursive: true });
  // The copy is outside test/sites: keep its .js files CommonJS whatever lies above the temp folder.
  fs.writeFileSync(path.join(dir, 'package.json'), '{ "type": "commonjs", "private": true }\n');
  return dir;
}

/** setVersion rewrites the VERSION line of the app file (a deploy of a new version). */
export function setVersion(file: string, version: string): void {
  const text = fs.readFileSync(file, 'utf8').replace(/const VERSION = '[^']*';/, `const VERSION = '${version}';`);
  fs.writeFileSync(file, text);
}

/**
 * pollUntil requests `target` until `accept(reply)` holds, at most `withinMs` (the recycle is
 * observable only through the responses). Resolves with the accepted reply; rejects with the
 * last reply seen.
 */
export async function pollUntil(base: string, target: string, accept: (reply: Reply) => boolean, withinMs = 5000): Promise<Reply> {
  const deadline = Date.now() + withinMs;
  let last: Reply | undefined;
  for (;;) {
    last = await fetchRaw(base, target);
    if (accept(last)) return last;
    if (Date.now() > deadline) throw new Error(`no accepted reply within ${withinMs} ms; last: ${last.status} ${last.text.slice(0, 300)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** waitForFile resolves when `file` exists (watching its folder), rejects after `withinMs`. */
export function waitForFile(file: string, withinMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = fs.watch(path.dirname(file), () => check());
    const timer = setTimeout(() => {
      watcher.close();
      reject(new Error(`${file} did not appear within ${withinMs} ms`));
    }, withinMs);
    const check = (): void => {
      if (!fs.existsSync(file)) return;
      clearTimeout(timer);
      watcher.close();
      resolve();
    };
    check();
  });
}

/** waitForLog resolves when the host's stderr (read through `stderr()`) matches, watching the stream; rejects after `withinMs`. */
export function waitForLog(stream: NodeJS.ReadableStream, stderr: () => string, pattern: RegExp, withinMs = 10_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const check = (): void => {
      if (!pattern.test(stderr())) return;
      clearTimeout(timer);
      stream.off('data', onData);
      resolve();
    };
    const onData = (): void => setImmediate(check);
    const timer = setTimeout(() => {
      stream.off('data', onData);
      reject(new Error(`host log did not match ${pattern} within ${withinMs} ms`));
    }, withinMs);
    stream.on('data', onData);
    check();
  });
}
