/**
 * TrustedProxies decides who the client of a request is when nodehost runs behind load
 * balancers (nodehost.yml `trustedProxies`). Only a peer inside one of the trusted ranges may
 * speak for the client: then the client is the right-most address of `X-Forwarded-For` that is
 * not itself a trusted proxy (so a client cannot put a forged address in front of the one its
 * balancer appended), and `X-Forwarded-Proto` (its last value, the nearest balancer's) says
 * whether the client used HTTPS. From any other peer both headers are ignored.
 */
import { BlockList, isIP } from 'node:net';
import type { IncomingHttpHeaders } from 'node:http';
import type { ProxyRange } from '../config/proxy-range.js';

/** ForwardedClient is who the request came from, as nodehost decided. */
export interface ForwardedClient {
  readonly address: string;
  /** Whether the client spoke HTTPS (to the balancer, or to nodehost itself). */
  readonly isHttps: boolean;
}

export class TrustedProxies {
  readonly #ranges = new BlockList();

  /** The constructor takes the parsed entries of `trustedProxies`. */
  constructor(ranges: readonly ProxyRange[]) {
    for (const range of ranges) this.#ranges.addSubnet(range.address, range.prefix, range.family);
  }

  /** isTrusted tells whether `address` (without an IPv4-mapped prefix) is a trusted proxy. */
  isTrusted(address: string): boolean {
    const version = isIP(address);
    return version !== 0 && this.#ranges.check(address, version === 4 ? 'ipv4' : 'ipv6');
  }

  /**
   * client returns the real client of a request from `peer` (the socket's address, an
   * IPv4-mapped one read as IPv4) that reached nodehost over HTTPS or not (`isHttps`); `peer`
   * itself when it is not trusted or sent no usable X-Forwarded-For.
   */
  client(peer: string, isHttps: boolean, headers: IncomingHttpHeaders): ForwardedClient {
    let address = normalize(peer);
    if (!this.isTrusted(address)) return { address, isHttps };
    const xff = headers['x-forwarded-for'];
    if (xff !== undefined) {
      // node joins repeated headers with ', ': one list, read from the nearest hop outwards.
      const hops = (Array.isArray(xff) ? xff.join(',') : xff).split(',');
      for (let i = hops.length - 1; i >= 0; i--) {
        const hop = normalize(hops[i]!);
        if (isIP(hop) === 0) break;
        address = hop;
        if (!this.isTrusted(hop)) break;
      }
    }
    const proto = headers['x-forwarded-proto'];
    const last =
      typeof proto === 'string'
        ? proto
            .slice(proto.lastIndexOf(',') + 1)
            .trim()
            .toLowerCase()
        : '';
    return { address, isHttps: last === '' ? isHttps : last === 'https' };
  }
}

/** normalize trims a hop and drops an IPv4-mapped prefix (`::ffff:10.0.0.1`). */
function normalize(hop: string): string {
  const trimmed = hop.trim();
  return trimmed.toLowerCase().startsWith('::ffff:') && isIP(trimmed.slice(7)) === 4 ? trimmed.slice(7) : trimmed;
}
