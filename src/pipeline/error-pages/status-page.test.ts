import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RequestContext } from '../../http/request-context.js';
import { errorStep } from '../error-step.js';
import { fail } from '../../http/error-outcome.js';
import { sendStatus } from './status-page.js';
import { fetchLocalText, useContextServer, type LocalTextReply } from '../../modules/testing/context-server.test-helper.js';

let respond: (ctx: RequestContext) => void = () => {};
let lastContext: RequestContext | undefined;
const server = useContextServer((req, res) => {
  lastContext = new RequestContext(req, res, { root: '/nonexistent', name: 'test' }, false, errorStep);
  respond(lastContext);
});

function fetch(method = 'GET'): Promise<LocalTextReply> {
  return fetchLocalText(server.port, '/', { method });
}

test('sendStatus writes a minimal page, escapes the message, and records the status', async () => {
  respond = (ctx) => sendStatus(ctx, 404, 8, 'Not <here> & "gone"');
  const reply = await fetch();
  assert.equal(reply.status, 404);
  assert.equal(reply.headers['content-type'], 'text/html; charset=utf-8');
  assert.equal(reply.headers['content-length'], String(Buffer.byteLength(reply.body)));
  assert.match(reply.body, /<h1>404 - Not Found<\/h1>/);
  assert.match(reply.body, /Not &lt;here&gt; &amp; &quot;gone&quot;/);
  assert.equal(lastContext!.status, 404);
  assert.equal(lastContext!.substatus, 8);
});

test('sendStatus keeps headers set before it, and HEAD gets no body', async () => {
  respond = (ctx) => {
    ctx.res.setHeader('Allow', 'GET, HEAD');
    sendStatus(ctx, 405, 0, 'Method not allowed.');
  };
  const reply = await fetch('HEAD');
  assert.equal(reply.status, 405);
  assert.equal(reply.headers.allow, 'GET, HEAD');
  assert.equal(reply.body, '');
  assert.notEqual(reply.headers['content-length'], '0');
});

test('sendStatus destroys a response whose head is already out', async () => {
  respond = (ctx) => {
    ctx.res.setHeader('Content-Length', 10);
    // Once 'abc' is written out, the head is certainly on the wire.
    ctx.res.write('abc', () => sendStatus(ctx, 500, 0, 'Too late.'));
  };
  const reply = await fetch();
  assert.equal(reply.status, 200);
  assert.equal(reply.isCut, true);
  assert.equal(reply.body, 'abc');
  assert.equal(lastContext!.status, 500);
});

test('the error step gives an error outcome the status and substatus from the error table and a friendly sentence', async () => {
  respond = (ctx) => ctx.sendError(fail('NH_ERR_STATIC_MIME_UNKNOWN'));
  const reply = await fetch();
  assert.equal(reply.status, 404);
  assert.match(reply.body, /could not be found/);
  assert.doesNotMatch(reply.body, /mimeMap/);
  assert.equal(lastContext!.substatus, 3);
});
