/**
 * The debugger at <app>/debug end to end (spec 2.11, DESIGN §2): redirect, page, ?kill texts,
 * ?brk with a DevTools Protocol client over the tunnelled WebSocket, the renamed segment and
 * disabled debugging.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { request } from 'node:http';
import WebSocket from 'ws';
import { controlPaths } from '../src/control/paths.js';
import { fetchRaw, SITES, startNodehost, type RunningHost } from './helpers/nodehost.js';

/** Cdp is a minimal DevTools Protocol client: numbered commands, and events by name. */
class Cdp {
  readonly ws: WebSocket;
  #id = 0;
  readonly #pending = new Map<number, (result: unknown) => void>();
  readonly #events: { method: string; params: unknown }[] = [];
  readonly #eventWaiters: { method: string; resolve: (params: unknown) => void }[] = [];
  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data) => {
      const msg = JSON.parse(String(data)) as { id?: number; result?: unknown; method?: string; params?: unknown };
      if (msg.id !== undefined) this.#pending.get(msg.id)?.(msg.result);
      else if (msg.method !== undefined) {
        const waiter = this.#eventWaiters.findIndex((w) => w.method === msg.method);
        if (waiter >= 0) this.#eventWaiters.splice(waiter, 1)[0]!.resolve(msg.params);
        else this.#events.push({ method: msg.method, params: msg.params });
      }
    });
  }
  send(method: string, params: object = {}): Promise<unknown> {
    const id = ++this.#id;
    return new Promise((resolve) => {
      this.#pending.set(id, resolve);
      this.ws.send(JSON.stringify({ id, method, params }));
    });
  }
  event(method: string): Promise<unknown> {
    const index = this.#events.findIndex((e) => e.method === method);
    if (index >= 0) return Promise.resolve(this.#events.splice(index, 1)[0]!.params);
    return new Promise((resolve) => this.#eventWaiters.push({ method, resolve }));
  }
}

// biome-ignore lint/suspicious/noExplicitAny: the test reads whatever JSON the API answers
function post(socketPath: string, urlPath: string): Promise<{ status: number; json: any }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, method: 'POST', path: urlPath, agent: false });
    req.on('error', reject);
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, json: JSON.parse(text) }));
    });
    req.end();
  });
}

describe('debugger', () => {
  let host: RunningHost;
  before(async () => {
    host = await startNodehost(`${SITES}ws`, { waitFor: /control socket / });
  });
  after(async () => {
    await host.stop();
  });

  it('redirects /app.js/debug to /app.js/debug/ (301)', async () => {
    const reply = await fetchRaw(host.url, '/dbg/app.js/debug');
    assert.equal(reply.status, 301);
    assert.equal(reply.headers.location, '/dbg/app.js/debug/');
  });

  it('answers ?kill with the exact text when no session runs', async () => {
    const reply = await fetchRaw(host.url, '/dbg/app.js/debug/?kill');
    assert.equal(reply.status, 200);
    assert.equal(reply.text, 'The debugger for the application is not running.');
    assert.equal(reply.headers['cache-control'], 'no-cache');
  });

  it('starts a session: page with the devtools link, one --inspect worker serves the app, ?kill ends it', async () => {
    const page = await fetchRaw(host.url, '/dbg/app.js/debug/');
    assert.equal(page.status, 200);
    assert.match(page.text, /devtools:\/\/devtools\/bundled\/js_app\.html\?ws=127\.0\.0\.1:\d+\/dbg\/app\.js\/debug\/ws/);
    assert.match(page.text, /chrome:\/\/inspect/);
    assert.match(page.text, /websocketAddress/);
    const pids = new Set<string>();
    for (let i = 0; i < 4; i++) {
      const reply = await fetchRaw(host.url, '/dbg/app.js/x');
      assert.match(reply.text, /--inspect=127\.0\.0\.1:391\d\d/);
      pids.add(reply.text.split(' ')[1]!);
    }
    assert.equal(pids.size, 1, 'one debuggee serves every request');
    const kill = await fetchRaw(host.url, '/dbg/app.js/debug/?kill');
    assert.equal(kill.text, 'The debugger and debugee processes have been killed.');
    const after = await fetchRaw(host.url, '/dbg/app.js/x');
    assert.doesNotMatch(after.text, /--inspect/);
    assert.equal((await fetchRaw(host.url, '/dbg/app.js/debug/?kill')).text, 'The debugger for the application is not running.');
  });

  it('?brk pauses on the first line; a DevTools client over the tunnel evaluates 1+1 and resumes; the waiting request completes', async () => {
    const page = await fetchRaw(host.url, '/dbg/app.js/debug/?brk');
    assert.equal(page.status, 200);
    assert.match(page.text, /--inspect-brk=127\.0\.0\.1:\d+/);
    // This request waits: the debuggee is paused before it listens.
    const request = fetchRaw(host.url, '/dbg/app.js/after-resume');
    const ws = new WebSocket(`${host.url.replace('http://', 'ws://')}/dbg/app.js/debug/ws`);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    const cdp = new Cdp(ws);
    const paused = cdp.event('Debugger.paused');
    await cdp.send('Runtime.enable');
    await cdp.send('Debugger.enable');
    await cdp.send('Runtime.runIfWaitingForDebugger');
    const pause = (await paused) as { reason: string; callFrames: { location: { scriptId: string; lineNumber: number } }[] };
    assert.equal(pause.reason, 'Break on start');
    // The top frame is the app's first statement (line 3, 0-based 2) in app.js.
    assert.equal(pause.callFrames[0]!.location.lineNumber, 2);
    const source = (await cdp.send('Debugger.getScriptSource', { scriptId: pause.callFrames[0]!.location.scriptId })) as { scriptSource: string };
    assert.match(source.scriptSource, /where --inspect-brk stops/);
    const evaluated = (await cdp.send('Runtime.evaluate', { expression: '1+1' })) as { result: { value: number } };
    assert.equal(evaluated.result.value, 2);
    await cdp.send('Debugger.resume');
    const reply = await request;
    assert.equal(reply.status, 200);
    assert.match(reply.text, /after-resume --inspect-brk=/);
    ws.close();
    assert.equal((await fetchRaw(host.url, '/dbg/app.js/debug/?kill')).text, 'The debugger and debugee processes have been killed.');
  });

  it('the admin API starts and stops a session: the debuggee serves the app, then a plain worker again', async () => {
    const socketPath = controlPaths(`${SITES}ws`).socketPath;
    await fetchRaw(host.url, '/dbg/app.js/x');
    const started = await post(socketPath, '/v1/apps/debug?app=/dbg/app.js');
    assert.equal(started.status, 200);
    assert.equal(started.json.isBreak, false);
    assert.equal(started.json.debugUrl, '/dbg/app.js/debug/');
    const reply = await fetchRaw(host.url, '/dbg/app.js/x');
    assert.equal(reply.text.split(' ')[1], String(started.json.pid));
    assert.match(reply.text, new RegExp(`--inspect=127\\.0\\.0\\.1:${started.json.port}`));
    assert.deepEqual((await post(socketPath, '/v1/apps/debug/stop?app=/dbg/app.js')).json, { stopped: true });
    assert.doesNotMatch((await fetchRaw(host.url, '/dbg/app.js/x')).text, /--inspect/);
    assert.deepEqual((await post(socketPath, '/v1/apps/debug/stop?app=/dbg/app.js')).json, { stopped: false });
    await fetchRaw(host.url, '/dbgoff/app.js/x');
    assert.equal((await post(socketPath, '/v1/apps/debug?app=/dbgoff/app.js')).json.error.code, 'NH_ERR_DEBUG_DISABLED');
    assert.equal((await post(socketPath, '/v1/apps/debug?app=/nope.js')).json.error.code, 'NH_ERR_ADMIN_NO_APP');
  });

  it('debuggerPathSegment renames the segment', async () => {
    assert.equal((await fetchRaw(host.url, '/dbg/renamed.js/inspect')).status, 301);
    const plain = await fetchRaw(host.url, '/dbg/renamed.js/debug/');
    assert.match(plain.text, /^app \d+ \/dbg\/renamed\.js\/debug\/ $/);
  });

  it('with debuggingEnabled=false the debug URL goes to the app', async () => {
    const reply = await fetchRaw(host.url, '/dbgoff/app.js/debug');
    assert.equal(reply.status, 200);
    assert.match(reply.text, /^app \d+ \/dbgoff\/app\.js\/debug $/);
  });
});
