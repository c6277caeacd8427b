/**
 * The temporary certificate an ACME site serves until its first real one arrives: self-signed,
 * for the site's names, valid for a week, and recognisable by its issuer so that a restart
 * orders a real one instead of keeping it. Made synchronously (node-forge signs with a key from
 * node:crypto), so the https listener has a certificate before it listens.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type Forge from 'node-forge';

/** node-forge is required on the first temporary certificate (synchronously, like the signing), not at every start. */
const require = createRequire(import.meta.url);
let forgeModule: typeof Forge | undefined;

/** The common name of every temporary certificate's issuer (and subject). */
export const TEMPORARY_ISSUER = 'nodehost temporary certificate';

const VALID_MS = 7 * 24 * 3600 * 1000;

/** temporaryCertificate is the PEM of a new private key followed by a self-signed certificate for `names`. */
export function temporaryCertificate(names: readonly string[]): string {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  forgeModule ??= require('node-forge') as typeof Forge;
  const forge = forgeModule;
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const certificate = forge.pki.createCertificate();
  certificate.publicKey = forge.pki.publicKeyFromPem(publicKey.export({ type: 'spki', format: 'pem' }).toString());
  // A positive serial: the first byte's high bit clear.
  certificate.serialNumber = `01${randomBytes(15).toString('hex')}`;
  certificate.validity.notBefore = new Date(Date.now() - 60_000);
  certificate.validity.notAfter = new Date(Date.now() + VALID_MS);
  const name = [{ name: 'commonName', value: TEMPORARY_ISSUER }];
  certificate.setSubject(name);
  certificate.setIssuer(name);
  certificate.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: names.map((value) => ({ type: 2, value })) },
  ]);
  certificate.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  return `${keyPem}${forge.pki.certificateToPem(certificate)}`;
}
