/**
 * The hardening suite's host: a private copy of test/sites/hardening started with a
 * nodehost.yml of the test's choosing (short timeouts, a symlink policy), and what the app saw.
 */
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { once } from 'node:events';
import { join } from 'node:path';
import { createTestCa, type TestCa } from '../helpers/certificates.js';
import { freePort, SITES, startNodehost, type RunningHost } from '../helpers/nodehost.js';
import { RawConnection } from '../helpers/raw-http.js';
import { fetchStrict } from '../helpers/strict-http.js';

/** HardeningHost is a started host on its own copy of the site; `close` stops it and removes the copy. */
export interface HardeningHost extends RunningHost {
  /** The folder holding the copy: `site/` and `nodehost.yml`. */
  readonly folder: string;
  readonly site: string;
  /** seen is what reached the app so far: each request's method, target and header list, and how many were aborted. */
  seen(app?: string): Promise<{ seen: { method: string; url: string; rawHeaders: string[] }[]; aborted: number; bodies: Record<string, string> }>;
  close(): Promise<number | null>;
}

/** startHardeningHost copies the site, writes `yml` (the site root is added) and starts nodehost with it. */
export async function startHardeningHost(yml = '', prepare?: (site: string) => void): Promise<HardeningHost> {
  const folder = mkdtempSync(join(tmpdir(), 'nodehost-hardening-'));
  const site = join(folder, 'site');
  cpSync(join(SITES, 'hardening'), site, { recursive: true });
  prepare?.(site);
  const config = join(folder, 'nodehost.yml');
  // No access log unless the test's yml names a folder for it.
  writeFileSync(config, `root: site\nname: hardening\n${/^logs:/m.test(yml) ? '' : 'logs: ""\n'}${yml}`);
  const host = await startNodehost('', { args: ['--config', config] });
  return {
    ...host,
    folder,
    site,
    async seen(app = '/app.js') {
      return JSON.parse((await fetchStrict(host.url, `${app}/seen`)).text);
    },
    async close() {
      const code = await host.stop();
      rmSync(folder, { recursive: true, force: true });
      return code;
    },
  };
}

/** logged resolves once the host's stderr (its log) matches `pattern`. */
export async function logged(host: RunningHost, pattern: RegExp): Promise<void> {
  while (!pattern.test(host.stderr())) await once(host.child.stderr!, 'data');
}

/** waitUntil calls `check` until it is true, at most `tries` times, each after the previous answer (no sleeping). */
export async function waitUntil(check: () => Promise<boolean>, tries = 200): Promise<void> {
  for (let i = 0; i < tries; i++) if (await check()) return;
  throw new Error(`the condition did not hold after ${tries} checks`);
}

/** TwoPortHost serves a copy of the hardening site on an http and an https port (`secure.test`), with the `limits` of the test's choosing. */
export class TwoPortHost {
  readonly folder = mkdtempSync(join(tmpdir(), 'nodehost-hardening-'));
  ca: TestCa | undefined;
  host: RunningHost | undefined;
  httpPort = 0;
  httpsPort = 0;

  async start(limits: Record<string, string> = {}): Promise<void> {
    cpSync(join(SITES, 'hardening'), join(this.folder, 'site'), { recursive: true });
    this.ca = createTestCa(this.folder);
    const cert = this.ca.issue('secure', ['secure.test']);
    this.httpPort = await freePort();
    this.httpsPort = await freePort();
    const yml = [
      'logs: ""',
      ...(Object.keys(limits).length === 0 ? [] : ['limits:', ...Object.entries(limits).map(([name, value]) => `  ${name}: ${value}`)]),
      'sites:',
      '  - name: hardening',
      '    root: site',
      `    bindings: ["http://*:${this.httpPort}", "https://*:${this.httpsPort}"]`,
      `    tls: { certificate: ${cert.certificate}, key: ${cert.key} }`,
      '',
    ].join('\n');
    writeFileSync(join(this.folder, 'nodehost.yml'), yml);
    this.host = await startNodehost('', { port: false, args: ['--config', join(this.folder, 'nodehost.yml')] });
  }

  open(isHttps: boolean): Promise<RawConnection> {
    return isHttps ? RawConnection.openTls(this.httpsPort, { servername: 'secure.test', ca: this.ca!.ca }) : RawConnection.open(this.httpPort);
  }

  async stop(): Promise<void> {
    assert.equal(await this.host?.stop(), 0);
    rmSync(this.folder, { recursive: true, force: true });
  }
}
