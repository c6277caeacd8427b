// Unit tests of the phase engine with stub modules (STYLE 14): phase order, the four outcomes,
// the filter phase run again after a rewrite, the error step, the 'log' phase after close,
// and a module that throws.
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, test } from 'node:test';
import type { FolderConfig } from '../config/types.js';
import { NodehostError } from '../errors.js';
import { HostLog } from '../host-log.js';
import { fail } from '../http/error-outcome.js';
import type { Outcome, Phase, PipelineModule } from '../http/pipeline-module.js';
import type { RequestContext } from '../http/request-context.js';
import type { SiteHandle } from '../http/site-handle.js';
import { fetchLocalText, useContextServer } from '../modules/testing/context-server.test-helper.js';
import { Pipeline } from './pipeline.js';

const CONFIG = { errors: [] } as unknown as FolderConfig;
const site: SiteHandle = { root: '/srv/site', name: 'test', config: { forPath: () => CONFIG } };

/** stub is a module that records its id and returns `outcome` (or what `outcome(ctx)` gives). */
function stub(id: string, phase: Phase, outcome: Outcome | ((ctx: RequestContext) => Outcome | Promise<Outcome>), trail: string[]): PipelineModule {
  return {
    id,
    phase,
    handle: (ctx) => {
      trail.push(id);
      return typeof outcome === 'function' ? outcome(ctx) : outcome;
    },
  };
}

function answer(text: string): (ctx: RequestContext) => Outcome {
  return (ctx) => {
    ctx.res.end(text);
    return 'finish';
  };
}

let pipeline: Pipeline;
const server = useContextServer((req, res) => void pipeline.handle(req, res, false));
const quietLog = new HostLog(new PassThrough());

describe('Pipeline', () => {
  test('runs phases in IIS order whatever the module list order, and stops at finish', async () => {
    const trail: string[] = [];
    pipeline = new Pipeline({
      site,
      log: quietLog,
      modules: [
        stub('handler', 'execute', answer('done'), trail),
        stub('after', 'execute', 'continue', trail),
        stub('map', 'map-handler', 'continue', trail),
        stub('filter', 'filter', 'continue', trail),
        stub('rewrite', 'rewrite', 'continue', trail),
      ],
    });
    const reply = await fetchLocalText(server.port, '/x');
    assert.equal(reply.body, 'done');
    assert.deepEqual(trail, ['filter', 'rewrite', 'map', 'handler']);
  });

  test("'next-phase' skips the rest of its phase only", async () => {
    const trail: string[] = [];
    pipeline = new Pipeline({
      site,
      log: quietLog,
      modules: [stub('f1', 'filter', 'next-phase', trail), stub('f2', 'filter', 'continue', trail), stub('h', 'execute', answer('ok'), trail)],
    });
    assert.equal((await fetchLocalText(server.port, '/')).body, 'ok');
    assert.deepEqual(trail, ['f1', 'h']);
  });

  test('an error outcome stops the pipeline and is answered by the error step', async () => {
    const trail: string[] = [];
    pipeline = new Pipeline({
      site,
      log: quietLog,
      modules: [stub('f', 'filter', () => fail('NH_ERR_FILTER_HIDDEN_SEGMENT'), trail), stub('h', 'execute', answer('never'), trail)],
    });
    const reply = await fetchLocalText(server.port, '/secret');
    assert.equal(reply.status, 404);
    assert.match(reply.body, /404 - Not Found/);
    assert.deepEqual(trail, ['f']);
  });

  test('no handler answering is 404; a bad target is 400', async () => {
    pipeline = new Pipeline({ site, log: quietLog, modules: [] });
    assert.equal((await fetchLocalText(server.port, '/nothing')).status, 404);
    assert.equal((await fetchLocalText(server.port, '/%zz')).status, 400);
    assert.equal((await fetchLocalText(server.port, '/../etc/passwd')).status, 400);
  });

  test('after a rewrite the filter phase runs again on the new URL', async () => {
    const trail: string[] = [];
    const seen: string[] = [];
    pipeline = new Pipeline({
      site,
      log: quietLog,
      modules: [
        stub(
          'filter',
          'filter',
          (ctx) => {
            seen.push(ctx.path);
            return ctx.path.startsWith('/hidden') ? fail('NH_ERR_FILTER_HIDDEN_SEGMENT') : 'continue';
          },
          trail,
        ),
        stub(
          'rewrite',
          'rewrite',
          (ctx) => {
            ctx.path = '/hidden/file';
            ctx.isRewritten = true;
            return 'continue';
          },
          trail,
        ),
        stub('h', 'execute', answer('reached'), trail),
      ],
    });
    assert.equal((await fetchLocalText(server.port, '/public')).status, 404);
    assert.deepEqual(seen, ['/public', '/hidden/file']);
    assert.deepEqual(trail, ['filter', 'rewrite', 'filter']);
  });

  test('a configuration with errors gets the configuration error page before any module', async () => {
    const trail: string[] = [];
    const broken = {
      errors: [new NodehostError('NH_ERR_CONFIG_XML', 'not well-formed', { source: { file: '/srv/site/web.config', line: 3 } })],
    } as unknown as FolderConfig;
    pipeline = new Pipeline({ site: { ...site, config: { forPath: () => broken } }, log: quietLog, modules: [stub('f', 'filter', 'continue', trail)] });
    const reply = await fetchLocalText(server.port, '/');
    // Loopback client: iisnode's friendly page (HTTP 200) with file:line.
    assert.equal(reply.status, 200);
    assert.match(reply.body, /web\.config:3: not well-formed/);
    assert.deepEqual(trail, []);
  });

  test("a throwing module is a 500 and is logged; the 'log' phase runs once the response closed", async () => {
    const trail: string[] = [];
    const logged: string[] = [];
    const out = new PassThrough();
    out.on('data', (line: Buffer) => logged.push(line.toString()));
    let closed!: () => void;
    const isLogged = new Promise<void>((resolve) => {
      closed = resolve;
    });
    pipeline = new Pipeline({
      site,
      log: new HostLog(out),
      modules: [
        stub(
          'boom',
          'execute',
          () => {
            throw new Error('bug');
          },
          trail,
        ),
        stub(
          'log',
          'log',
          (ctx) => {
            closed();
            return ctx.status === 500 ? 'continue' : 'finish';
          },
          trail,
        ),
      ],
    });
    assert.equal((await fetchLocalText(server.port, '/')).status, 500);
    await isLogged;
    assert.deepEqual(trail, ['boom', 'log']);
    assert.ok(logged.some((line) => line.includes('request failed inside nodehost')));
  });
});
