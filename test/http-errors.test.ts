// httpErrors: custom pages for nodehost's own errors and for node's, existingResponse, errorMode by client.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SITES, startNodehost, type RunningHost } from './helpers/nodehost.js';
import { fetchFromRemote } from './helpers/remote-client.js';
import { fetchStrict } from './helpers/strict-http.js';

let host: RunningHost;
before(async () => {
  // On every interface, so that the remote-client test can reach it.
  host = await startNodehost(SITES + 'http-errors', { args: ['--host', '0.0.0.0'] });
});
after(async () => {
  assert.equal(await host.stop(), 0);
});

const CUSTOM_404 = /<h1>Custom 404 page<\/h1>/;

describe("httpErrors: nodehost's own errors", () => {
  test('File: a static 404 is answered with the configured file and the 404 status', async () => {
    const reply = await fetchStrict(host.url, '/nope.txt');
    assert.equal(reply.status, 404);
    assert.equal(reply.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(reply.text, CUSTOM_404);
    assert.equal(reply.headers['x-powered-by'], 'nodehost', 'custom headers go on custom pages too');
    const head = await fetchStrict(host.url, '/nope.txt', { method: 'HEAD' });
    assert.equal(head.status, 404);
    assert.equal(head.body.length, 0);
  });

  test('ExecuteURL runs the page through the pipeline (here a node app); the status stays 404', async () => {
    const reply = await fetchStrict(host.url, '/exec/missing.txt');
    assert.equal(reply.status, 404);
    assert.match(reply.text, /<h1>node error page<\/h1>/);
    // node sees the URL the client asked for, as after any rewrite.
    assert.match(reply.text, /asked for \/exec\/missing\.txt/);
  });

  test('Redirect answers 302 to the path', async () => {
    const reply = await fetchStrict(host.url, '/redir/missing.txt');
    assert.equal(reply.status, 302);
    assert.equal(reply.headers.location, '/errors/moved.html');
  });

  test("prefixLanguageFilePath picks the page of the client's language, then en-US", async () => {
    const french = await fetchStrict(host.url, '/lang/missing.txt', { headers: { 'Accept-Language': 'fr-CA;q=1, fr;q=0.8' } });
    assert.equal(french.status, 404);
    assert.match(french.text, /Page introuvable/);
    const other = await fetchStrict(host.url, '/lang/missing.txt', { headers: { 'Accept-Language': 'de' } });
    assert.match(other.text, /English 404/);
  });

  test('errorMode Detailed gives the detailed page: substatus, error code and message', async () => {
    const reply = await fetchStrict(host.url, '/detailed/missing.txt');
    assert.equal(reply.status, 404);
    assert.match(reply.text, /<h1>404\.0 - Not Found<\/h1>/);
    assert.match(reply.text, /NH_ERR_STATIC_NOT_FOUND/);
    assert.doesNotMatch(reply.text, CUSTOM_404);
  });

  test('DetailedLocalOnly: a loopback client gets the detailed page', async () => {
    const reply = await fetchStrict(host.url, '/local/missing.txt');
    assert.equal(reply.status, 404);
    assert.match(reply.text, /NH_ERR_STATIC_NOT_FOUND/);
  });

  test('request limits keep their statuses and get the custom pages: maxUrl 404.14, headerLimits 431, verbs 404.6', async () => {
    const long = await fetchStrict(host.url, '/' + 'a'.repeat(120));
    assert.equal(long.status, 404);
    assert.match(long.text, CUSTOM_404);
    const header = await fetchStrict(host.url, '/errors/404.html', { headers: { 'X-Big': 'x'.repeat(20) } });
    assert.equal(header.status, 431);
    assert.match(header.text, /<h1>Custom 431 page<\/h1>/);
    const verb = await fetchStrict(host.url, '/errors/404.html', { method: 'DELETE' });
    assert.equal(verb.status, 404);
    assert.match(verb.text, CUSTOM_404);
    // The same requests without the custom pages (errorMode Detailed) show the substatus.
    const detailed = await fetchStrict(host.url, '/detailed/' + 'a'.repeat(120));
    assert.equal(detailed.status, 404);
    assert.match(detailed.text, /404\.14 - Not Found/);
    const detailedVerb = await fetchStrict(host.url, '/detailed/x.txt', { method: 'DELETE' });
    assert.match(detailedVerb.text, /404\.6 - Not Found/);
    const detailedHeader = await fetchStrict(host.url, '/detailed/x.txt', { headers: { 'X-Big': 'x'.repeat(20) } });
    assert.equal(detailedHeader.status, 431);
    assert.match(detailedHeader.text, /NH_ERR_FILTER_HEADER_TOO_LARGE/);
    const detailedQuery = await fetchStrict(host.url, '/detailed/x.txt?' + 'q'.repeat(60));
    assert.equal(detailedQuery.status, 404);
    assert.match(detailedQuery.text, /404\.15 - Not Found/);
    const detailedBody = await fetchStrict(host.url, '/detailed/x.txt', { method: 'POST', body: '0123456789A' });
    assert.equal(detailedBody.status, 413);
    assert.match(detailedBody.text, /413\.1 - /);
    // Every one went out through the response chain: the custom headers are on each, once.
    for (const reply of [long, header, verb, detailed, detailedVerb, detailedHeader, detailedQuery, detailedBody]) {
      assert.deepEqual(
        reply.rawHeaders.filter((_, i) => i % 2 === 0 && reply.rawHeaders[i]!.toLowerCase() === 'x-powered-by'),
        ['X-Powered-By'],
      );
    }
  });
});

describe('httpErrors: error responses from node', () => {
  test("PassThrough keeps node's JSON 404 body", async () => {
    const reply = await fetchStrict(host.url, '/pass/app.js/json404');
    assert.equal(reply.status, 404);
    assert.equal(reply.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(reply.text), { error: 'no such user' });
  });

  test('Replace replaces it with the custom page', async () => {
    const reply = await fetchStrict(host.url, '/replace/app.js/json404');
    assert.equal(reply.status, 404);
    assert.equal(reply.headers['content-type'], 'text/html; charset=utf-8');
    assert.match(reply.text, CUSTOM_404);
    assert.equal(reply.headers['content-length'], String(reply.body.length));
  });

  test('Auto (the default) keeps a node body and replaces a bodiless 404, chunked or not', async () => {
    const json = await fetchStrict(host.url, '/app.js/json404');
    assert.equal(json.status, 404);
    assert.deepEqual(JSON.parse(json.text), { error: 'no such user' });
    const empty = await fetchStrict(host.url, '/app.js/empty404');
    assert.equal(empty.status, 404);
    assert.match(empty.text, CUSTOM_404);
    const chunked = await fetchStrict(host.url, '/app.js/chunked404');
    assert.equal(chunked.status, 404);
    assert.match(chunked.text, CUSTOM_404);
  });

  test("Replace with an ExecuteURL page: node's JSON 404 is dropped and the page (a node app) answers, keeping the 404", async () => {
    for (let i = 0; i < 2; i++) {
      const reply = await fetchStrict(host.url, '/execnode/app.js/json404');
      assert.equal(reply.status, 404);
      assert.equal(reply.headers['content-type'], 'text/html');
      assert.match(reply.text, /<h1>node error page<\/h1><p>asked for \/execnode\/app\.js\/json404<\/p>/);
      assert.doesNotMatch(reply.text, /no such user/);
      assert.equal(reply.headers['content-length'], String(reply.body.length));
      assert.equal(reply.rawHeaders.filter((name) => name.toLowerCase() === 'x-powered-by').length, 1, 'custom headers once, from the page');
    }
    const head = await fetchStrict(host.url, '/execnode/app.js/json404', { method: 'HEAD' });
    assert.equal(head.status, 404);
    assert.equal(head.body.length, 0);
  });

  test('Auto with an ExecuteURL page: a bodiless node 404 (chunked or not) gets the page, a node body is kept', async () => {
    for (const target of ['/execauto/app.js/empty404', '/execauto/app.js/chunked404']) {
      const reply = await fetchStrict(host.url, target);
      assert.equal(reply.status, 404, target);
      assert.match(reply.text, /<h1>node error page<\/h1>/, target);
    }
    const json = await fetchStrict(host.url, '/execauto/app.js/json404');
    assert.equal(json.status, 404);
    assert.deepEqual(JSON.parse(json.text), { error: 'no such user' });
  });

  test('a node 200 is never touched', async () => {
    const reply = await fetchStrict(host.url, '/replace/app.js/fine');
    assert.equal(reply.status, 200);
    assert.equal(reply.text, 'ok');
  });
});

describe('httpErrors: a remote client (network namespace over a veth pair)', () => {
  test('DetailedLocalOnly gives a remote client the custom page, and Detailed the detailed one', async () => {
    const [local, detailed] = await fetchFromRemote('errs', host.port, ['/local/missing.txt', '/detailed/missing.txt']);
    assert.equal(local!.status, 404);
    assert.match(local!.body, CUSTOM_404);
    assert.doesNotMatch(local!.body, /NH_ERR_/);
    assert.equal(detailed!.status, 404);
    assert.match(detailed!.body, /NH_ERR_STATIC_NOT_FOUND/);
  });
});
