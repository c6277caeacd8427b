/**
 * Compression end to end (spec/rewrite.md §2.7, docs/compression.md): the real binary serving
 * test/sites/compression (copied to a temporary folder, where the test writes the static files
 * with the modification times it needs), read with the strict client. Node responses are
 * compressed as they stream, static files from cached variants or precompressed siblings.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import zlib from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { BIN, SITES, startNodehost, type RunningHost } from './helpers/nodehost.js';
import { fetchStrict, type StrictReply } from './helpers/strict-http.js';

const run = promisify(execFile);
const tmp = fs.mkdtempSync(path.join(tmpdir(), 'nodehost-compression-'));
const site = path.join(tmp, 'site');
let host: RunningHost;

const DECODE: Record<string, (body: Buffer) => Buffer> = { gzip: zlib.gunzipSync, deflate: zlib.inflateSync, br: zlib.brotliDecompressSync };

/** A script of about 60 KB, the same every run. */
const SCRIPT = Array.from({ length: 1500 }, (_, i) => `export const value${i} = compute(${i}, "${'x'.repeat(i % 17)}");\n`).join('');
const PRE_BR = zlib.brotliCompressSync(Buffer.from(SCRIPT + '// sibling br\n'));
const PRE_GZ = zlib.gzipSync(Buffer.from(SCRIPT + '// sibling gz\n'));

before(async () => {
  fs.cpSync(path.join(SITES, 'compression'), site, { recursive: true });
  const write = (name: string, content: string | Buffer, mtime?: Date) => {
    const file = path.join(site, name);
    fs.writeFileSync(file, content);
    if (mtime !== undefined) fs.utimesSync(file, mtime, mtime);
  };
  write('big.js', SCRIPT);
  write('nostatic/big.js', SCRIPT);
  write('tiny.css', 'body { margin: 0 }\n');
  write('photo.png', Buffer.alloc(20000, 7));
  // Precompressed siblings: newer than the file, so served as they are.
  write('pre.js', SCRIPT, new Date(Date.now() - 60_000));
  write('pre.js.br', PRE_BR);
  write('pre.js.gz', PRE_GZ);
  // A stale sibling: older than its file, so ignored.
  write('stale.js.gz', PRE_GZ, new Date(Date.now() - 120_000));
  write('stale.js', SCRIPT, new Date(Date.now() - 60_000));
  host = await startNodehost(site);
});

after(async () => {
  await host?.stop();
  fs.rmSync(tmp, { recursive: true, force: true });
});

function get(target: string, acceptEncoding?: string, headers: Record<string, string> = {}, method = 'GET'): Promise<StrictReply> {
  return fetchStrict(host.url, target, { method, headers: acceptEncoding === undefined ? headers : { 'Accept-Encoding': acceptEncoding, ...headers } });
}

function decoded(reply: StrictReply): string {
  const coding = reply.headers['content-encoding'];
  return (coding === undefined ? reply.body : DECODE[coding]!(reply.body)).toString('utf8');
}

const JSON_20K = '/app.js/json?bytes=20000';

describe('each coding decodes to the original bytes', () => {
  for (const coding of ['br', 'gzip', 'deflate']) {
    test(`${coding}: node response and static file`, async () => {
      const identity = await get(JSON_20K);
      assert.equal(identity.headers['content-encoding'], undefined);
      const dynamic = await get(JSON_20K, coding);
      assert.equal(dynamic.headers['content-encoding'], coding);
      assert.equal(dynamic.framing, 'chunked');
      assert.ok(dynamic.body.length < identity.body.length / 3, 'the JSON shrinks');
      assert.equal(decoded(dynamic), identity.text);

      const file = await get('/big.js', coding);
      assert.equal(file.headers['content-encoding'], coding);
      assert.equal(file.framing, 'content-length');
      assert.equal(Number(file.headers['content-length']), file.body.length);
      assert.equal(decoded(file), SCRIPT);
      // The second request is answered from the variant cache, with the same bytes.
      assert.deepEqual((await get('/big.js', coding)).body, file.body);
    });
  }

  test('curl --compressed decodes node and static responses', async () => {
    for (const target of [JSON_20K, '/big.js', '/app.js/chunks']) {
      const plain = await get(target);
      const { stdout } = await run('curl', ['-sS', '--compressed', '-o', '-', '-w', '\n%{content_type}', host.url + target], { maxBuffer: 1 << 24 });
      assert.equal(stdout.slice(0, stdout.lastIndexOf('\n')), plain.text, target);
    }
  });

  test('a chunked response written in many small pieces decodes whole', async () => {
    const plain = await get('/app.js/chunks');
    const reply = await get('/app.js/chunks', 'gzip');
    assert.equal(reply.headers['content-encoding'], 'gzip');
    assert.equal(decoded(reply), plain.text);
  });
});

describe('negotiation', () => {
  test('q-values choose the coding; ties go to br', async () => {
    assert.equal((await get(JSON_20K, 'br;q=0.5, gzip;q=1')).headers['content-encoding'], 'gzip');
    assert.equal((await get(JSON_20K, 'gzip, deflate, br')).headers['content-encoding'], 'br');
    assert.equal((await get('/big.js', 'br;q=0, gzip;q=0.2, deflate;q=0.1')).headers['content-encoding'], 'gzip');
    assert.equal((await get('/big.js', '*')).headers['content-encoding'], 'br');
  });

  test('refused codings give identity, with Vary; identity;q=0 alone still gets identity', async () => {
    for (const accept of ['gzip;q=0, br;q=0, deflate;q=0', 'identity;q=0', 'zstd']) {
      for (const target of [JSON_20K, '/big.js']) {
        const reply = await get(target, accept);
        assert.equal(reply.status, 200, `${target} ${accept}`);
        assert.equal(reply.headers['content-encoding'], undefined, `${target} ${accept}`);
        assert.equal(reply.headers.vary, 'Accept-Encoding', `${target} ${accept}`);
      }
    }
  });

  test('without Accept-Encoding: identity with Vary for an eligible type, no Vary otherwise', async () => {
    assert.equal((await get('/big.js')).headers.vary, 'Accept-Encoding');
    assert.equal((await get(JSON_20K)).headers.vary, 'Accept-Encoding');
    const png = await get('/photo.png', 'gzip');
    assert.equal(png.headers['content-encoding'], undefined);
    assert.equal(png.headers.vary, undefined);
    const dynamicPng = await get('/app.js/png', 'gzip');
    assert.equal(dynamicPng.headers['content-encoding'], undefined);
    assert.equal(dynamicPng.headers.vary, undefined);
    // Disabled by the site's <dynamicTypes> entry.
    assert.equal((await get('/app.js/excluded', 'gzip')).headers['content-encoding'], undefined);
  });

  test('below minFileSizeForComp nothing is compressed', async () => {
    const small = await get('/app.js/small', 'gzip');
    assert.equal(small.headers['content-encoding'], undefined);
    assert.equal(small.text, 'small');
    const tiny = await get('/tiny.css', 'gzip');
    assert.equal(tiny.headers['content-encoding'], undefined);
    assert.equal(tiny.headers.vary, undefined);
  });
});

describe('responses left as they are', () => {
  test('a Range request gets identity bytes (noCompressionForRange)', async () => {
    const reply = await get('/big.js', 'gzip', { Range: 'bytes=0-99' });
    assert.equal(reply.status, 206);
    assert.equal(reply.headers['content-encoding'], undefined);
    assert.equal(reply.text, SCRIPT.slice(0, 100));
    const dynamic = await get(JSON_20K, 'gzip', { Range: 'bytes=0-99' });
    assert.equal(dynamic.headers['content-encoding'], undefined);
  });

  test('a 206 from node, an already encoded body and Cache-Control: no-transform are untouched', async () => {
    const partial = await get('/app.js/partial', 'gzip');
    assert.equal(partial.status, 206);
    assert.equal(partial.headers['content-encoding'], undefined);
    const encoded = await get('/app.js/encoded', 'br, gzip');
    assert.equal(encoded.headers['content-encoding'], 'gzip');
    assert.equal(encoded.headers.vary, undefined);
    assert.equal(zlib.gunzipSync(encoded.body).toString(), (await get(JSON_20K)).text);
    const noTransform = await get('/app.js/notransform', 'gzip');
    assert.equal(noTransform.headers['content-encoding'], undefined);
    assert.equal(noTransform.text, (await get(JSON_20K)).text);
  });

  test('HEAD is never compressed but carries Vary', async () => {
    for (const target of ['/big.js', JSON_20K]) {
      const reply = await get(target, 'gzip', {}, 'HEAD');
      assert.equal(reply.status, 200);
      assert.equal(reply.headers['content-encoding'], undefined, target);
      assert.equal(reply.headers.vary, 'Accept-Encoding', target);
      assert.equal(reply.body.length, 0);
    }
  });

  test('HTTP/1.0 clients and requests through a proxy get identity', async () => {
    assert.equal((await get(JSON_20K, 'gzip', { Via: '1.1 proxy' })).headers['content-encoding'], undefined);
    assert.equal((await get('/big.js', 'gzip', { Via: '1.1 proxy' })).headers['content-encoding'], undefined);
  });
});

describe('node responses to a client that accepts no coding', () => {
  test('get the head they would get with a coding refused: Vary merged or left out as for a compressed one', async () => {
    const cases: [string, string | undefined][] = [
      ['/app.js/vary', 'Cookie, Accept-Encoding'],
      ['/app.js/png', undefined],
      ['/app.js/small', undefined],
      ['/app.js/notransform', undefined],
      ['/app.js/encoded', undefined],
      ['/app.js/excluded', undefined],
    ];
    for (const [target, vary] of cases) {
      for (const accept of [undefined, 'identity']) {
        const reply = await get(target, accept);
        assert.equal(reply.status, 200, target);
        assert.equal(reply.headers.vary, vary, `${target} ${accept}`);
      }
    }
    const encoded = await get('/app.js/encoded');
    assert.equal(encoded.headers['content-encoding'], 'gzip', "the application's own coding stays");
  });
});

describe('headers of a compressed variant', () => {
  test("Vary merges with the application's own", async () => {
    const reply = await get('/app.js/vary', 'gzip');
    assert.equal(reply.headers['content-encoding'], 'gzip');
    assert.equal(reply.headers.vary, 'Cookie, Accept-Encoding');
  });

  test('the ETag of a compressed variant differs from the identity one, and revalidates', async () => {
    assert.equal((await get(JSON_20K)).headers.etag, '"j1"');
    assert.equal((await get(JSON_20K, 'gzip')).headers.etag, '"j1-gzip"');
    const plain = await get('/big.js');
    const br = await get('/big.js', 'br');
    const gzip = await get('/big.js', 'gzip');
    assert.notEqual(br.headers.etag, plain.headers.etag);
    assert.notEqual(br.headers.etag, gzip.headers.etag);
    assert.equal(br.headers['last-modified'], plain.headers['last-modified']);
    const notModified = await get('/big.js', 'br', { 'If-None-Match': br.headers.etag! });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.headers.etag, br.headers.etag);
    assert.equal(notModified.headers.vary, 'Accept-Encoding');
    assert.equal(notModified.headers['content-encoding'], undefined);
    // The identity tag does not match the br variant: the whole variant is sent.
    const changed = await get('/big.js', 'br', { 'If-None-Match': plain.headers.etag! });
    assert.equal(changed.status, 200);
    assert.equal(changed.headers['content-encoding'], 'br');
  });
});

describe('precompressed siblings', () => {
  test('a newer app.js.br / app.js.gz is served as it is', async () => {
    const br = await get('/pre.js', 'br, gzip');
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(br.headers['content-type'], 'application/javascript');
    assert.deepEqual(br.body, PRE_BR);
    assert.equal(Number(br.headers['content-length']), PRE_BR.length);
    const gz = await get('/pre.js', 'gzip');
    assert.deepEqual(gz.body, PRE_GZ);
    assert.equal(decoded(gz), SCRIPT + '// sibling gz\n');
    // deflate has no sibling: nodehost compresses the file itself.
    assert.equal(decoded(await get('/pre.js', 'deflate')), SCRIPT);
  });

  test('an older sibling is ignored', async () => {
    const gz = await get('/stale.js', 'gzip');
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.notDeepEqual(gz.body, PRE_GZ);
    assert.equal(decoded(gz), SCRIPT);
  });
});

describe('per folder and location', () => {
  test('doStaticCompression="false" in a folder web.config', async () => {
    const reply = await get('/nostatic/big.js', 'gzip');
    assert.equal(reply.headers['content-encoding'], undefined);
    assert.equal(reply.headers.vary, undefined);
    assert.equal(reply.text, SCRIPT);
  });

  test('doDynamicCompression="false" in a <location>', async () => {
    const reply = await get('/api/app.js/json?bytes=20000', 'gzip');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-encoding'], undefined);
    assert.equal(reply.headers.vary, undefined);
  });
});

/** open starts a GET and resolves with the response head, its body left to read. */
function open(target: string, acceptEncoding: string): Promise<IncomingMessage> {
  const url = new URL(host.url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: url.hostname, port: url.port, path: target, headers: { 'Accept-Encoding': acceptEncoding }, agent: false }, resolve);
    req.on('error', reject);
    req.end();
  });
}

/** Decoders that give out what has arrived so far. */
function streamingDecoder(coding: string): zlib.Gunzip | zlib.BrotliDecompress | zlib.Inflate {
  return coding === 'br' ? zlib.createBrotliDecompress() : coding === 'gzip' ? zlib.createGunzip() : zlib.createInflate();
}

/** DecodedText collects what a decoder gives out and tells when some text has arrived. */
class DecodedText {
  text = '';
  readonly ended: Promise<void>;
  #waiting: { expected: string; resolve: () => void } | undefined;

  constructor(decoder: NodeJS.ReadableStream) {
    decoder.on('data', (chunk: Buffer) => {
      this.text += chunk.toString('utf8');
      if (this.#waiting !== undefined && this.text.includes(this.#waiting.expected)) {
        const { resolve } = this.#waiting;
        this.#waiting = undefined;
        resolve();
      }
    });
    this.ended = new Promise((resolve, reject) => {
      decoder.on('end', resolve);
      decoder.on('error', reject);
    });
  }

  /** until resolves once the decoded text contains `expected`. */
  until(expected: string): Promise<void> {
    if (this.text.includes(expected)) return Promise.resolve();
    return new Promise((resolve) => (this.#waiting = { expected, resolve }));
  }
}

describe('streaming', () => {
  for (const coding of ['br', 'gzip']) {
    test(`${coding}: the first piece reaches the client before the application ends`, async () => {
      const id = `hold-${coding}`;
      const res = await open(`/app.js/hold?id=${id}`, coding);
      assert.equal(res.headers['content-encoding'], coding);
      assert.equal(res.headers['transfer-encoding'], 'chunked');
      assert.equal(res.headers['content-length'], undefined);
      const decoder = streamingDecoder(coding);
      const seen = new DecodedText(decoder);
      res.pipe(decoder);
      await seen.until('first piece\n');
      assert.equal(seen.text, 'first piece\n');
      // Only now does the application end its response.
      assert.equal((await get(`/app.js/release?id=${id}`)).text, 'released');
      await seen.ended;
      assert.equal(seen.text, 'first piece\nlast piece\n');
    });

    test(`${coding}: server-sent events arrive one by one`, async () => {
      const id = `events-${coding}`;
      const res = await open(`/app.js/events?id=${id}`, coding);
      assert.equal(res.headers['content-encoding'], coding);
      const decoder = streamingDecoder(coding);
      const seen = new DecodedText(decoder);
      res.pipe(decoder);
      await seen.until('data: event 1\n\n');
      for (let n = 2; n <= 4; n++) {
        assert.equal(seen.text.includes(`event ${n}`), false);
        assert.equal((await get(`/app.js/next?id=${id}`)).text, 'ok');
        await seen.until(`data: event ${n}\n\n`);
      }
      await get(`/app.js/next?id=${id}&end=1`);
      await seen.ended;
      assert.equal(seen.text, [1, 2, 3, 4].map((n) => `data: event ${n}\n\n`).join(''));
    });
  }
});

describe('configuration errors', () => {
  test('a bad value names its file and line', async () => {
    const dir = fs.mkdtempSync(path.join(tmp, 'bad-'));
    fs.writeFileSync(
      path.join(dir, 'web.config'),
      [
        '<configuration>',
        '  <system.webServer>',
        '    <httpCompression',
        '        minFileSizeForComp="big">',
        '      <dynamicTypes><add mimeType="not a type" enabled="true"/></dynamicTypes>',
        '      <scheme name="zip"/>',
        '    </httpCompression>',
        '    <urlCompression doStaticCompression="maybe"/>',
        '  </system.webServer>',
        '</configuration>',
      ].join('\n'),
    );
    const result = await run(process.execPath, [BIN, 'check', dir]).catch((err: { code: number; stdout: string }) => err);
    assert.equal((result as { code?: number }).code, 1);
    const out = (result as { stdout: string }).stdout;
    assert.match(out, /web\.config:4\b.*minFileSizeForComp/);
    assert.match(out, /web\.config:5\b.*mimeType/);
    assert.match(out, /web\.config:6\b.*gzip, deflate, br/);
    assert.match(out, /web\.config:8\b.*doStaticCompression/);
  });
});

describe('host-wide defaults in nodehost.yml', () => {
  test('compression: in nodehost.yml is merged under every web.config of the site', async () => {
    const yml = path.join(tmp, 'nodehost.yml');
    // The host adds image/png and turns scripts and dynamic compression off; the site's own
    // minFileSizeForComp (1000) wins over the host's, so the 20 kB picture qualifies.
    fs.writeFileSync(
      yml,
      [
        'root: site',
        'compression: |',
        '  <system.webServer>',
        '    <httpCompression minFileSizeForComp="100000">',
        '      <staticTypes>',
        '        <add mimeType="image/png" enabled="true" />',
        '        <add mimeType="application/javascript" enabled="false" />',
        '      </staticTypes>',
        '    </httpCompression>',
        '    <urlCompression doDynamicCompression="false" />',
        '  </system.webServer>',
        '',
      ].join('\n'),
    );
    const withDefaults = await startNodehost('', { args: ['--config', yml] });
    try {
      const png = await fetchStrict(withDefaults.url, '/photo.png', { headers: { 'Accept-Encoding': 'gzip' } });
      assert.equal(png.headers['content-encoding'], 'gzip');
      assert.deepEqual(zlib.gunzipSync(png.body), Buffer.alloc(20000, 7));
      const script = await fetchStrict(withDefaults.url, '/big.js', { headers: { 'Accept-Encoding': 'gzip' } });
      assert.equal(script.headers['content-encoding'], undefined);
      assert.equal(script.text, SCRIPT);
      const json = await fetchStrict(withDefaults.url, JSON_20K, { headers: { 'Accept-Encoding': 'gzip' } });
      assert.equal(json.status, 200);
      assert.equal(json.headers['content-encoding'], undefined);
      assert.equal((await get('/photo.png', 'gzip')).headers['content-encoding'], undefined, 'without nodehost.yml, png is not compressed');
    } finally {
      await withDefaults.stop();
    }
  });

  test('a bad value in nodehost.yml compression names nodehost.yml and its line', async () => {
    const yml = path.join(tmp, 'bad-compression.yml');
    fs.writeFileSync(
      yml,
      [
        'root: site',
        'compression: |',
        '  <httpCompression>',
        '    <staticTypes>',
        '      <add mimeType="image" />',
        '    </staticTypes>',
        '  </httpCompression>',
        '',
      ].join('\n'),
    );
    const result = await run(process.execPath, [BIN, 'serve', '--config', yml, '--port', '0']).catch((err: { code: number; stderr: string }) => err);
    assert.equal((result as { code?: number }).code, 1);
    assert.match((result as { stderr: string }).stderr, /bad-compression\.yml:5\b.*mimeType must look like type\/subtype/);
  });
});
