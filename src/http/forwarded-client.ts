/**
 * forwardedClient finds the client address behind trusted proxies (nodehost.yml
 * `trustedProxies`): when the connection comes from a trusted proxy, X-Forwarded-For is read
 * from the right, skipping the trusted hops, and the first address that is not trusted is the
 * client. A malformed entry ends the walk at the last trusted hop, so a client can never make
 * itself look like another by writing the header: only what trusted proxies appended counts.
 */
import { type BlockList, isIP } from 'node:net';

/** forwardedClient returns the client address for `peer` (the connection's address, IPv4-mapped prefix removed). */
export function forwardedClient(peer: string, forwardedFor: string | string[] | undefined, trusted: BlockList): string {
  if (forwardedFor === undefined || !isTrusted(trusted, peer)) return peer;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',');
  let client = peer;
  for (let index = hops.length - 1; index >= 0; index--) {
    const hop = stripV4Mapped(hops[index]!.trim());
    if (isIP(hop) === 0) return client;
    client = hop;
    if (!isTrusted(trusted, hop)) return hop;
  }
  return client;
}

function isTrusted(trusted: BlockList, address: string): boolean {
  const family = isIP(address);
  return family !== 0 && trusted.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

function stripV4Mapped(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
