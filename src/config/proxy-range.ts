/**
 * One entry of `trustedProxies` in nodehost.yml: an IPv4 or IPv6 address, alone or as a CIDR
 * range (`10.0.0.0/8`, `fd00::/8`). An IPv4-mapped IPv6 address is read as its IPv4 address,
 * as sockets report the peers of a dual-stack listener that way.
 */
import { isIP } from 'node:net';

/** ProxyRange is a parsed entry: the network address, its prefix length and family. */
export interface ProxyRange {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

/** parseProxyRange reads `address` or `address/prefix`; undefined when it is neither. */
export function parseProxyRange(text: string): ProxyRange | undefined {
  const slash = text.indexOf('/');
  let address = (slash === -1 ? text : text.slice(0, slash)).trim();
  if (address.toLowerCase().startsWith('::ffff:') && isIP(address.slice(7)) === 4) address = address.slice(7);
  const version = isIP(address);
  if (version === 0) return undefined;
  const bits = version === 4 ? 32 : 128;
  const prefixText = slash === -1 ? String(bits) : text.slice(slash + 1).trim();
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > bits) return undefined;
  return { address, prefix: Number(prefixText), family: version === 4 ? 'ipv4' : 'ipv6' };
}
