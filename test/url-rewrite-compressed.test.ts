// Outbound body rules on compressed responses: the body is inflated, rewritten and compressed
// again with the same coding; a coding nodehost cannot decode passes through untouched.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import zlib from 'node:zlib';
import { startNodehost, type RunningHost } from './helpers/nodehost.js';
import { fetchStrict } from './helpers/strict-http.js';

let dir: string;
let host: RunningHost;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'nh-outbound-gz-'));
  writeFileSync(path.join(dir, 'package.json'), '{ "type": "commonjs", "private": true }\n');
  writeFileSync(
    path.join(dir, 'web.config'),
    `<configuration><system.webServer>
  <handlers><add name="iisnode-coded" path="coded.js" verb="*" modules="iisnode"/></handlers>
  <rewrite><outboundRules>
    <rule name="FooToBar"><match pattern="foo"/><action type="Rewrite" value="bar"/></rule>
  </outboundRules></rewrite>
</system.webServer></configuration>`,
  );
  // Answers "foo foo foo" in the coding named by the last URL segment.
  writeFileSync(
    path.join(dir, 'coded.js'),
    `const zlib = require('zlib');
const encoders = { gzip: zlib.gzipSync, deflate: zlib.deflateSync, br: zlib.brotliCompressSync, compress: (b) => Buffer.concat([Buffer.from('LZW:'), b]) };
require('http').createServer((req, res) => {
  const coding = req.url.split('/').pop();
  res.setHeader('Content-Type', 'text/plain');
  res.setHeader('Content-Encoding', coding);
  res.end(encoders[coding](Buffer.from('foo foo foo')));
}).listen(process.env.PORT);
`,
  );
  host = await startNodehost(dir);
});

after(async () => {
  await host.stop();
  rmSync(dir, { recursive: true, force: true });
});

const decoders: Record<string, (body: Buffer) => Buffer> = { gzip: zlib.gunzipSync, deflate: zlib.inflateSync, br: zlib.brotliDecompressSync };

for (const coding of ['gzip', 'deflate', 'br']) {
  test(`a ${coding} body is rewritten and stays ${coding}`, async () => {
    const reply = await fetchStrict(host.url, `/coded.js/${coding}`);
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-encoding'], coding);
    assert.equal(Number(reply.headers['content-length']), reply.body.length);
    assert.equal(decoders[coding]!(reply.body).toString(), 'bar bar bar');
  });
}

test('a coding nodehost cannot decode passes through unchanged', async () => {
  const reply = await fetchStrict(host.url, '/coded.js/compress');
  assert.equal(reply.headers['content-encoding'], 'compress');
  assert.equal(reply.text, 'LZW:foo foo foo');
});
