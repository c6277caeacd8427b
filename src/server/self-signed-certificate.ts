/**
 * selfSignedCertificate makes a private key and a certificate signed by that key: the ACME
 * sites' temporary certificate and the `tls: { selfSigned: true }` sites' own. Made
 * synchronously (node-forge signs with a key from node:crypto), so an https listener has its
 * certificate before it listens.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type Forge from 'node-forge';
import { lazyRequire } from '../lazy-require.js';

/** node-forge is required on the first certificate made (synchronously, like the signing), not at every start. */
const loadForge = lazyRequire<typeof Forge>('node-forge');

/** SelfSignedOptions are the issuer's (and subject's) common name and how long the certificate is valid. */
export interface SelfSignedOptions {
  readonly commonName: string;
  readonly validMs: number;
}

/** selfSignedCertificate is the PEM of a new private key followed by a certificate for `names` (DNS names and IP addresses). */
export function selfSignedCertificate(names: readonly string[], options: SelfSignedOptions): string {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const forge = loadForge();
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  // A positive serial: the first byte's high bit clear.
  certificate.serialNumber = `01${randomBytes(15).toString('hex')}`;
  certificate.validity.notBefore = new Date(Date.now() - 60_000);
  certificate.validity.notAfter = new Date(Date.now() + options.validMs);
  const name = [{ name: 'commonName', value: options.commonName }];
  certificate.setSubject(name);
  certificate.setIssuer(name);
  certificate.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    // subjectAltName types: 2 a DNS name, 7 an IP address.
    { name: 'subjectAltName', altNames: names.map((value) => (isIP(value) === 0 ? { type: 2, value } : { type: 7, ip: value })) },
  ]);
  certificate.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  return `${keyPem}${forge.pki.certificateToPem(certificate)}`;
}
