/**
 * Certificates of one HTTPS listener: a secure context per binding host name (exact names and
 * `*.domain` wildcards, chosen by the client's SNI name) and a default one for clients that
 * send no name or one no binding has. The PEM files are watched; when one changes, the
 * contexts are built again and swapped in whole, so new handshakes use the new certificate
 * while open connections keep theirs. A file that cannot be read or parsed keeps the last
 * good certificate serving and is reported in the host log.
 */
import { watch, readFileSync, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';
import { X509Certificate } from 'node:crypto';
import type { SecureContext, SecureContextOptions } from 'node:tls';
import type { TlsFiles } from '../config/host-config.js';
import { NodehostError } from '../errors.js';
import type { HostLog } from '../host-log.js';
import { lazyRequire } from '../lazy-require.js';

// Loaded by the first https listener's certificates: a host without one never loads it.
const tls = lazyRequire<typeof import('node:tls')>('node:tls');

/** TLS 1.2 ciphers: forward secret AEAD suites only (TLS 1.3 has its own, all modern). */
export const CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');

/** Changes to a file come in bursts (write, rename): they are read together after this long. */
const RELOAD_DELAY_MS = 100;

/** CertificateEntry names the files a binding host (`shop.example.test`, `*.example.test` or `*`) presents. */
export interface CertificateEntry {
  readonly host: string;
  readonly files: TlsFiles;
}

/** readTlsOptions reads a certificate (with its chain) and key into secure context options; throws NH_ERR_TLS_CERTIFICATE. */
export function readTlsOptions(files: TlsFiles): SecureContextOptions {
  try {
    const options: SecureContextOptions = {
      cert: readFileSync(files.certificate),
      key: readFileSync(files.key),
      minVersion: 'TLSv1.2',
      ciphers: CIPHERS,
      honorCipherOrder: true,
    };
    // Parse now, so a bad file is reported as such rather than at the first handshake.
    tls().createSecureContext(options);
    return options;
  } catch (err) {
    throw new NodehostError('NH_ERR_TLS_CERTIFICATE', `cannot load the certificate ${files.certificate} with key ${files.key}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** CertificateExpiry is when the certificate a binding host (`*`: the default one) presents stops being valid. */
export interface CertificateExpiry {
  readonly name: string;
  readonly notAfterMs: number;
}

/** notAfterOf reads the expiry of the first certificate of a PEM file (an ACME site's file holds its key too); NaN when there is none. */
function notAfterOf(options: SecureContextOptions): number {
  const first = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(String(options.cert));
  return first === null ? Number.NaN : Date.parse(new X509Certificate(first[0]).validTo);
}

export class Certificates {
  readonly #entries: readonly CertificateEntry[];
  readonly #defaultFiles: TlsFiles;
  readonly #log: HostLog;
  /** Exact names; swapped whole on reload. */
  #exact = new Map<string, SecureContext>();
  /** `*.domain` entries as [".domain", context], longest suffix first. */
  #wildcards: [string, SecureContext][] = [];
  #defaultOptions: SecureContextOptions;
  #defaultContext: SecureContext;
  /** Read with the contexts (for /metrics); swapped whole on reload. */
  #expiries: CertificateExpiry[] = [];
  readonly #watchers: FSWatcher[] = [];
  #reloadTimer: NodeJS.Timeout | undefined;
  /** Called with the new default options after a reload (the server's setSecureContext). */
  onDefaultChange: ((options: SecureContextOptions) => void) | undefined;

  /** The constructor reads every file; it throws NH_ERR_TLS_CERTIFICATE when one cannot be loaded. */
  constructor(entries: readonly CertificateEntry[], defaultFiles: TlsFiles, log: HostLog) {
    this.#entries = entries;
    this.#defaultFiles = defaultFiles;
    this.#log = log;
    this.#defaultOptions = readTlsOptions(defaultFiles);
    this.#defaultContext = tls().createSecureContext(this.#defaultOptions);
    this.#load(this.#defaultOptions);
  }

  /** defaultOptions are the options of the server's own (default) context. */
  get defaultOptions(): SecureContextOptions {
    return this.#defaultOptions;
  }

  /** expiries are the expiry times of the certificates loaded now, per binding host. */
  get expiries(): readonly CertificateExpiry[] {
    return this.#expiries;
  }

  /** contextFor picks the context for an SNI name: exact, then the longest wildcard, then the default. */
  contextFor(servername: string): SecureContext {
    const name = servername.toLowerCase();
    const exact = this.#exact.get(name);
    if (exact !== undefined) return exact;
    for (const [suffix, context] of this.#wildcards) {
      // `*.example.test` covers one label or more before `.example.test`, not the bare domain.
      if (name.endsWith(suffix) && name.length > suffix.length) return context;
    }
    return this.#defaultContext;
  }

  /** sniCallback is the listener's SNICallback. */
  readonly sniCallback = (servername: string, callback: (err: Error | null, context?: SecureContext) => void): void => {
    callback(null, this.contextFor(servername));
  };

  /** watch reloads the certificates when one of their files changes (the folders are watched, so replacing a file by rename is seen). */
  watch(): void {
    const folders = new Map<string, Set<string>>();
    for (const files of [this.#defaultFiles, ...this.#entries.map((entry) => entry.files)]) {
      for (const file of [files.certificate, files.key]) {
        const names = folders.get(dirname(file)) ?? new Set<string>();
        names.add(basename(file));
        folders.set(dirname(file), names);
      }
    }
    for (const [folder, names] of folders) {
      try {
        const watcher = watch(folder, (_event, name) => {
          if (name === null || names.has(name.toString())) this.#scheduleReload();
        });
        watcher.on('error', () => undefined);
        this.#watchers.push(watcher);
      } catch (err) {
        this.#log.warn('certificate folder not watched', { folder, err });
      }
    }
  }

  close(): void {
    clearTimeout(this.#reloadTimer);
    for (const watcher of this.#watchers) watcher.close();
    this.#watchers.length = 0;
  }

  /** reload reads every file again; on any failure the current certificates stay. */
  reload(): boolean {
    try {
      const defaultOptions = readTlsOptions(this.#defaultFiles);
      this.#load(defaultOptions);
      this.#defaultOptions = defaultOptions;
      this.#defaultContext = tls().createSecureContext(defaultOptions);
      this.onDefaultChange?.(defaultOptions);
      this.#log.info('certificates reloaded', { certificate: this.#defaultFiles.certificate, names: this.#entries.map((entry) => entry.host) });
      return true;
    } catch (err) {
      this.#log.error('certificate reload failed', {
        code: (err as NodehostError).code,
        message: (err as Error).message,
        keeps: 'the certificates loaded before',
      });
      return false;
    }
  }

  #scheduleReload(): void {
    clearTimeout(this.#reloadTimer);
    this.#reloadTimer = setTimeout(() => this.reload(), RELOAD_DELAY_MS);
    this.#reloadTimer.unref();
  }

  /** load builds every context into new maps and swaps them in (throws, keeping the old ones, on a bad file); `defaultOptions` give the default certificate's expiry. */
  #load(defaultOptions: SecureContextOptions): void {
    const exact = new Map<string, SecureContext>();
    const wildcards: [string, SecureContext][] = [];
    const byFiles = new Map<string, { context: SecureContext; notAfterMs: number }>();
    const expiries: CertificateExpiry[] = [{ name: '*', notAfterMs: notAfterOf(defaultOptions) }];
    for (const { host, files } of this.#entries) {
      if (host === '*') continue;
      const id = `${files.certificate}\0${files.key}`;
      let loaded = byFiles.get(id);
      if (loaded === undefined) {
        const options = readTlsOptions(files);
        loaded = { context: tls().createSecureContext(options), notAfterMs: notAfterOf(options) };
        byFiles.set(id, loaded);
      }
      if (host.startsWith('*.')) wildcards.push([host.slice(1), loaded.context]);
      else exact.set(host, loaded.context);
      expiries.push({ name: host, notAfterMs: loaded.notAfterMs });
    }
    wildcards.sort((a, b) => b[0].length - a[0].length);
    this.#exact = exact;
    this.#wildcards = wildcards;
    this.#expiries = expiries;
  }
}
