import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { HostLog } from '../host-log.js';
import { keepSelfSigned } from './self-signed-files.js';

const DIR = mkdtempSync(join(tmpdir(), 'nodehost-self-signed-unit-'));
after(() => rmSync(DIR, { recursive: true, force: true }));

test('keepSelfSigned makes the file once, keeps it, and makes it again when expiring, unreadable or for other names', () => {
  const lines: string[] = [];
  const log = new HostLog({ write: (line: string) => lines.push(line) } as unknown as NodeJS.WritableStream, false);
  const pem = join(DIR, 'self-signed', 'a.pem');
  const files = { certificate: pem, key: pem, selfSigned: ['a.test', '127.0.0.1'] };
  keepSelfSigned('a', files, log);
  const first = readFileSync(pem, 'utf8');
  keepSelfSigned('a', files, log);
  assert.equal(readFileSync(pem, 'utf8'), first, 'kept');
  keepSelfSigned('a', files, log, Date.now() + 340 * 24 * 3600 * 1000);
  const renewed = readFileSync(pem, 'utf8');
  assert.notEqual(renewed, first, 'renewed within 30 days of its end');
  keepSelfSigned('a', { ...files, selfSigned: ['a.test', 'b.test'] }, log);
  assert.notEqual(readFileSync(pem, 'utf8'), renewed, 'a name it lacks');
  writeFileSync(pem, 'garbage');
  keepSelfSigned('a', files, log);
  assert.match(readFileSync(pem, 'utf8'), /BEGIN CERTIFICATE/);
  const reasons = lines.map((line) => JSON.parse(line).reason);
  assert.deepEqual(reasons, ['first start', 'expiring', 'names changed', 'no certificate and key in the file']);
  keepSelfSigned('b', { certificate: join(DIR, 'mine.pem'), key: join(DIR, 'mine.key') }, log);
  assert.equal(lines.length, 4, "the operator's own files are never written");
});
