import { createServer } from 'node:net';
import { get } from 'node:http';
import { get as getHttps } from 'node:https';
import type { Child } from './children.js';
import { delay } from './children.js';

/**
 * ready.ts decides when a started front can take load: by what it prints or by answering a
 * real request, never by sleeping a fixed time. Every wait is bounded by a deadline and ends
 * early, with the child's output in the error, if the child exits.
 */

/** freePort asks the kernel for a free TCP port on 127.0.0.1 and releases it for the caller. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * waitForLine resolves with the first stdout line of `child` that matches `pattern`, and
 * rejects when `timeoutMs` passes or the child exits first.
 */
export function waitForLine(child: Child, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    const stdout = child.proc.stdout!;
    const onData = (chunk: string | Buffer): void => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      const hit = lines.find((l) => pattern.test(l));
      if (hit !== undefined) finish(() => resolve(hit));
    };
    const timer = setTimeout(() => finish(() => reject(notReady(child, `no line matching ${pattern} within ${timeoutMs} ms`))), timeoutMs);
    const finish = (settle: () => void): void => {
      clearTimeout(timer);
      stdout.off('data', onData);
      settle();
    };
    stdout.on('data', onData);
    void child.exited.then((code) => finish(() => reject(notReady(child, `exited (${code}) before it was ready`))));
  });
}

/**
 * waitForHttp polls `url` with GET until it answers 200 with `expectBody`, backing off from
 * 10 ms to 200 ms between attempts, and rejects at `timeoutMs` or when the child exits. The
 * first request also makes a lazily started worker start. With `socketPath`, the request
 * goes to that Unix socket (an app behind a front) instead of the URL's host and port.
 */
export async function waitForHttp(child: Child, url: string, expectBody: string, timeoutMs: number, socketPath?: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let pause = 10;
  let last = 'no attempt';
  while (Date.now() < deadline) {
    if (child.hasExited) throw notReady(child, `exited (${await child.exited}) before it answered ${url}`);
    const answer = await probe(url, Math.max(1, Math.min(2000, deadline - Date.now())), socketPath);
    if (answer.status === 200 && answer.body === expectBody) return;
    last = answer.status ? `HTTP ${answer.status} ${JSON.stringify(answer.body.slice(0, 200))}` : answer.body;
    await delay(pause);
    pause = Math.min(200, pause * 2);
  }
  throw notReady(
    child,
    `${url}${socketPath ? ` on ${socketPath}` : ''} did not answer 200 ${JSON.stringify(expectBody)} within ${timeoutMs} ms (last: ${last})`,
  );
}

function probe(url: string, timeoutMs: number, socketPath: string | undefined): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    // `agent: false`: a fresh connection, so the probe leaves no idle socket behind. Over TLS the bench's own certificate is not checked.
    const options = { agent: false as const, timeout: timeoutMs, rejectUnauthorized: false, ...(socketPath === undefined ? {} : { socketPath }) };
    const onResponse = (res: import('node:http').IncomingMessage): void => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c.length + body.length < 65536 ? c : ''));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', (e) => resolve({ status: 0, body: e.message }));
    };
    const req = url.startsWith('https:') ? getHttps(url, options, onResponse) : get(url, options, onResponse);
    req.on('timeout', () => req.destroy(new Error('probe timed out')));
    req.on('error', (e) => resolve({ status: 0, body: e.message }));
  });
}

function notReady(child: Child, what: string): Error {
  const out = [child.stdoutTail(), child.stderrTail()]
    .map((s) => s.trim())
    .filter(Boolean)
    .join('\n');
  return new Error(`${child.name}: ${what}${out ? `\n--- output (tail) ---\n${out.slice(-2000)}` : ''}`);
}
