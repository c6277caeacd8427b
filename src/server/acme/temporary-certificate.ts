/**
 * The temporary certificate an ACME site serves until its first real one arrives: self-signed,
 * for the site's names, valid for a week, and recognisable by its issuer so that a restart
 * orders a real one instead of keeping it.
 */
import { selfSignedCertificate } from '../self-signed-certificate.js';

/** The common name of every temporary certificate's issuer (and subject). */
export const TEMPORARY_ISSUER = 'nodehost temporary certificate';

const VALID_MS = 7 * 24 * 3600 * 1000;

/** temporaryCertificate is the PEM of a new private key followed by a self-signed certificate for `names`. */
export function temporaryCertificate(names: readonly string[]): string {
  return selfSignedCertificate(names, { commonName: TEMPORARY_ISSUER, validMs: VALID_MS });
}
