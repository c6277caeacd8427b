/**
 * keepSelfSigned keeps the certificate of a `tls: { selfSigned: true }` site (docs/host-config.md):
 * one PEM file beside nodehost.yml holding the key and the certificate, made when it is missing,
 * unreadable, within RENEW_BEFORE_MS of its end, or not covering every name the site's https
 * bindings have. A kept file is used again, so a browser's exception for it outlives a restart.
 */
import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { isIP } from 'node:net';
import { NodehostError } from '../errors.js';
import type { TlsFiles } from '../config/host-config.js';
import type { HostLog } from '../host-log.js';
import { selfSignedCertificate } from './self-signed-certificate.js';

/** The common name of the certificates this makes (issuer and subject). */
export const SELF_SIGNED_ISSUER = 'nodehost self-signed certificate';
const VALID_MS = 365 * 24 * 3600 * 1000;
const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;

/** keepSelfSigned makes `files.certificate` anew when it does not serve `files.selfSigned`; a no-op for the operator's own files. */
export function keepSelfSigned(site: string, files: TlsFiles, log: HostLog, now = Date.now()): void {
  const names = files.selfSigned;
  if (names === undefined) return;
  const reason = replaceReason(files.certificate, names, now);
  if (reason === undefined) return;
  const folder = dirname(files.certificate);
  try {
    mkdirSync(folder, { recursive: true, mode: 0o700 });
    chmodSync(folder, 0o700);
    const temporary = `${files.certificate}.${process.pid}.tmp`;
    writeFileSync(temporary, selfSignedCertificate(names, { commonName: SELF_SIGNED_ISSUER, validMs: VALID_MS }), { mode: 0o600 });
    renameSync(temporary, files.certificate);
  } catch (err) {
    throw new NodehostError(
      'NH_ERR_TLS_CERTIFICATE',
      `cannot write the self-signed certificate of site '${site}' to ${files.certificate}: ${(err as Error).message}`,
      {
        cause: err,
      },
    );
  }
  log.info('self-signed certificate made', { site, names: [...names], file: files.certificate, reason });
}

/** replaceReason says why the file must be made again, or undefined when it serves. */
function replaceReason(file: string, names: readonly string[], now: number): string | undefined {
  let certificate: X509Certificate;
  try {
    const pem = readFileSync(file, 'utf8');
    const first = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/.exec(pem);
    if (first === null || !pem.includes('PRIVATE KEY-----')) return 'no certificate and key in the file';
    certificate = new X509Certificate(first[0]);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'first start' : 'unreadable file';
  }
  if (Date.parse(certificate.validTo) - now < RENEW_BEFORE_MS) return 'expiring';
  const covers = (name: string) => (isIP(name) === 0 ? certificate.checkHost(name, { subject: 'never' }) : certificate.checkIP(name)) !== undefined;
  return names.every(covers) ? undefined : 'names changed';
}
