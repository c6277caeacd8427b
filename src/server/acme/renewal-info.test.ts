import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { certId, parseRenewalInfo, planRenewal, RETRY_MAX_MS, RETRY_MIN_MS } from './renewal-info.js';

const NOW = Date.parse('2026-12-01T00:00:00Z');
const HOUR = 3600 * 1000;
const window = (startHours: number, endHours: number) => ({
  suggestedWindow: { start: new Date(NOW + startHours * HOUR).toISOString(), end: new Date(NOW + endHours * HOUR).toISOString() },
});

test('parseRenewalInfo reads the window and bounds Retry-After (seconds or a date) to a minute .. a day', () => {
  const info = parseRenewalInfo({ ...window(10, 20), explanationURL: 'https://ca.test/why' }, '120', NOW);
  assert.deepEqual(info, { start: NOW + 10 * HOUR, end: NOW + 20 * HOUR, retryAfterMs: 120_000, explanationUrl: 'https://ca.test/why' });
  assert.equal(parseRenewalInfo(window(1, 2), '1', NOW).retryAfterMs, RETRY_MIN_MS);
  assert.equal(parseRenewalInfo(window(1, 2), String(7 * 24 * 3600), NOW).retryAfterMs, RETRY_MAX_MS);
  assert.equal(parseRenewalInfo(window(1, 2), new Date(NOW + 2 * HOUR).toUTCString(), NOW).retryAfterMs, 2 * HOUR);
  assert.equal(parseRenewalInfo(window(1, 2), undefined, NOW).retryAfterMs, 6 * HOUR);
  for (const bad of [{}, { suggestedWindow: { start: 'x', end: 'y' } }, window(5, 1), null])
    assert.throws(() => parseRenewalInfo(bad, undefined, NOW), /no valid suggestedWindow/);
});

test('planRenewal: a begun window orders now; else the earlier of the due time and the drawn point, asked again after Retry-After', () => {
  const info = (startHours: number, endHours: number, retryHours = 6) => ({
    start: NOW + startHours * HOUR,
    end: NOW + endHours * HOUR,
    retryAfterMs: retryHours * HOUR,
  });
  assert.deepEqual(planRenewal(NOW + 100 * HOUR, info(-1, 5), 0.9, NOW), { order: true }, 'a window that has begun: revoked or about to be');
  assert.deepEqual(planRenewal(NOW + 100 * HOUR, info(10, 20), 0.5, NOW), { order: false, at: NOW + 6 * HOUR }, 'asked again first');
  assert.deepEqual(planRenewal(NOW + 100 * HOUR, info(10, 20, 24), 0.5, NOW), { order: false, at: NOW + 15 * HOUR }, 'the point in the window');
  assert.deepEqual(planRenewal(NOW + 12 * HOUR, info(10, 20, 24), 0.5, NOW), { order: false, at: NOW + 12 * HOUR }, 'the own due time when earlier');
  assert.deepEqual(planRenewal(NOW - 1, info(10, 20), 0.5, NOW), { order: true }, 'due');
  assert.deepEqual(planRenewal(NOW + HOUR, undefined, 0, NOW), { order: false, at: NOW + HOUR }, 'no renewal information');
  assert.deepEqual(planRenewal(NOW, undefined, 0, NOW), { order: true });
});

test('certId: the authority key identifier and the serial as DER content (RFC 9773 §4.1: serial 0x87654321 is AIdlQyE)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'nodehost-ari-'));
  try {
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'pipe', 'ignore'] }).toString();
    openssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
      '-days',
      '1',
      '-subj',
      '/CN=ca',
    );
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', 'leaf.key', '-out', 'leaf.csr', '-subj', '/CN=leaf');
    writeFileSync(join(dir, 'ext.cnf'), 'authorityKeyIdentifier=keyid\n');
    openssl(
      'x509',
      '-req',
      '-in',
      'leaf.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-set_serial',
      '0x87654321',
      '-out',
      'leaf.pem',
      '-days',
      '1',
      '-extfile',
      'ext.cnf',
    );
    const text = openssl('x509', '-in', 'leaf.pem', '-noout', '-text');
    const keyId = /Authority Key Identifier:\s*\n\s*(?:keyid:)?([0-9A-F:]+)/.exec(text)![1]!.replaceAll(':', '');
    const [aki, serial] = certId(readFileSync(join(dir, 'leaf.pem'), 'utf8'))!.split('.');
    assert.equal(serial, 'AIdlQyE');
    assert.equal(Buffer.from(aki!, 'base64url').toString('hex').toUpperCase(), keyId);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
