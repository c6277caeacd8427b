/**
 * rotateTicketKeys replaces a TLS server's session ticket key every `periodMs` with a fresh
 * random one (RFC 5077 §5.5: a ticket key is a long-lived secret that breaks the forward
 * secrecy of every session it sealed; nginx and Caddy rotate theirs). OpenSSL takes the keys
 * of the server's own context for every handshake, SNI contexts included, so one call covers
 * every certificate of the port. Node holds one key only: a ticket sealed under the key
 * before a rotation no longer decrypts, and that client makes one full handshake (and gets a
 * ticket under the new key). A certificate reload (setSecureContext) keeps the key.
 */
import { randomBytes } from 'node:crypto';
import type { Server } from 'node:tls';
import type { HostLog } from '../host-log.js';

/** Node's ticket key: 16 bytes of name, 16 of HMAC secret, 16 of AES key. */
const TICKET_KEY_BYTES = 48;

export interface TicketKeyRotation {
  stop(): void;
}

export function rotateTicketKeys(server: Server, periodMs: number, log: HostLog): TicketKeyRotation | undefined {
  if (periodMs <= 0) return undefined;
  const timer = setInterval(() => {
    server.setTicketKeys(randomBytes(TICKET_KEY_BYTES));
    log.info('TLS session ticket key rotated', { periodMs });
  }, periodMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
