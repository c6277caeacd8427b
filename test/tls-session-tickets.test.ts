/**
 * TLS session tickets: sessions resume, for an SNI name with its own certificate and without
 * one, and the ticket key is replaced every `limits.ticketKeyRotation` (here 1 s): a ticket
 * issued before a rotation no longer resumes, and the tickets issued after it are sealed under
 * another key (the first 16 bytes of a ticket name its key).
 */
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { createTestCa, type TestCa } from './helpers/certificates.js';
import { SITES, freePort, startNodehost, type RunningHost } from './helpers/nodehost.js';

const DIR = mkdtempSync(join(tmpdir(), 'nodehost-tickets-'));
const ROTATED = /TLS session ticket key rotated/g;

after(() => rmSync(DIR, { recursive: true, force: true }));

interface Handshake {
  readonly reused: boolean;
  readonly session: Buffer;
  /** The key name of the ticket the server issued (its first 16 bytes). */
  readonly keyName: string;
}

describe('TLS session tickets', () => {
  let host: RunningHost;
  let ca: TestCa;
  let port: number;

  const rotations = () => host.stderr().match(ROTATED)?.length ?? 0;

  /** rotationPast waits for the host to log rotation number `count` or a later one. */
  function rotationPast(count: number): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (rotations() < count) return;
        host.child.stderr!.off('data', check);
        resolve();
      };
      host.child.stderr!.on('data', check);
      check();
    });
  }

  /** handshake connects over TLS 1.2 (the ticket travels in the session), offering `session` to resume. */
  function handshake(servername: string | undefined, session?: Buffer): Promise<Handshake> {
    return new Promise((resolve, reject) => {
      const socket = tlsConnect({
        host: '127.0.0.1',
        port,
        ca: ca.ca,
        maxVersion: 'TLSv1.2',
        ...(servername === undefined ? { checkServerIdentity: () => undefined } : { servername }),
        ...(session === undefined ? {} : { session }),
      });
      socket.once('secureConnect', () => {
        const ticket = socket.getTLSTicket();
        resolve({ reused: socket.isSessionReused(), session: socket.getSession()!, keyName: ticket?.subarray(0, 16).toString('hex') ?? '' });
        socket.end();
      });
      socket.once('error', reject);
    });
  }

  /** betweenRotations runs `step` again (at most 5 times) until no rotation happened while it ran. */
  async function betweenRotations<T>(step: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      const before = rotations();
      const result = await step();
      if (rotations() === before || attempt === 5) return result;
    }
  }

  before(async () => {
    ca = createTestCa(DIR);
    const named = ca.issue('tickets', ['tickets.example.test']);
    const fallback = ca.issue('default', ['default.test']);
    mkdirSync(join(DIR, 'sites'));
    cpSync(join(SITES, '_lib'), join(DIR, 'sites', '_lib'), { recursive: true });
    for (const name of ['tickets', 'default']) {
      mkdirSync(join(DIR, 'sites', name));
      writeFileSync(join(DIR, 'sites', name, 'who.txt'), `${name}\n`);
    }
    port = await freePort();
    writeFileSync(
      join(DIR, 'nodehost.yml'),
      [
        'sites:',
        '  - name: tickets',
        '    root: sites/tickets',
        `    bindings: ["https://tickets.example.test:${port}"]`,
        `    tls: { certificate: ${named.certificate}, key: ${named.key} }`,
        '  - name: default',
        '    root: sites/default',
        `    bindings: ["https://*:${port}"]`,
        `    tls: { certificate: ${fallback.certificate}, key: ${fallback.key} }`,
        'limits: { ticketKeyRotation: 1s }',
        '',
      ].join('\n'),
    );
    host = await startNodehost('', { port: false, args: ['--config', join(DIR, 'nodehost.yml')] });
  });
  after(() => host?.stop());

  for (const servername of ['tickets.example.test', undefined]) {
    test(`a rotation ends the resumption of older tickets and seals new ones under another key (${servername ?? 'no SNI'})`, async () => {
      await rotationPast(rotations() + 1);
      const before = await betweenRotations(async () => {
        const first = await handshake(servername);
        const again = await handshake(servername, first.session);
        return { first, again };
      });
      assert.equal(before.first.reused, false);
      assert.notEqual(before.first.keyName, '');
      assert.equal(before.again.reused, true);

      await rotationPast(rotations() + 1);
      const after = await betweenRotations(async () => {
        const stale = await handshake(servername, before.first.session);
        const again = await handshake(servername, stale.session);
        return { stale, again };
      });
      assert.equal(after.stale.reused, false);
      assert.notEqual(after.stale.keyName, before.first.keyName);
      assert.equal(after.again.reused, true);
    });
  }
});
