import { isIPv4, isIPv6 } from 'node:net';

/**
 * isLoopbackAddress tells whether `address` (a socket's remoteAddress, with or without the
 * `::ffff:` prefix node gives IPv4 clients of a dual-stack listener) is a loopback address:
 * IPv4 127.0.0.0/8 (RFC 1122 3.2.1.3), IPv6 ::1 (RFC 4291 2.5.3) in any spelling, and either of
 * those IPv4-mapped (`::ffff:127.0.0.1`, `::ffff:7f00:1`, `0:0:0:0:0:ffff:127.1.2.3`). A zone
 * (`%lo`) is ignored. Anything that is not an IP address, and undefined, is not loopback.
 * The common spellings are decided without parsing, since it runs for every request.
 */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined || address === '') return false;
  if (address === '::1' || address === '127.0.0.1' || address === '::ffff:127.0.0.1') return true;
  if (address.startsWith('127.')) return isIPv4(address);
  // Every IPv6 spelling of ::1 and of a mapped 127.x starts with a zero group.
  const first = address.charCodeAt(0);
  if (first !== 0x3a /* : */ && first !== 0x30 /* 0 */) return false;
  const groups = ipv6Groups(address);
  if (groups === undefined) return false;
  for (let i = 0; i < 5; i++) if (groups[i] !== 0) return false;
  if (groups[5] === 0) return groups[6] === 0 && groups[7] === 1;
  return groups[5] === 0xffff && groups[6]! >> 8 === 127;
}

/** ipv6Groups parses an IPv6 address (embedded IPv4 tail and zone allowed) into its eight 16-bit groups. */
function ipv6Groups(address: string): number[] | undefined {
  const zone = address.indexOf('%');
  const text = zone === -1 ? address : address.slice(0, zone);
  if (!isIPv6(text)) return undefined;
  let head = text;
  const tail: number[] = [];
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    const octets = text
      .slice(lastColon + 1)
      .split('.')
      .map(Number);
    tail.push(((octets[0]! << 8) | octets[1]!) >>> 0, ((octets[2]! << 8) | octets[3]!) >>> 0);
    head = text.slice(0, lastColon + 1) + '0:0';
  }
  const parse = (part: string): number[] => (part === '' ? [] : part.split(':').map((group) => parseInt(group, 16)));
  const gap = head.indexOf('::');
  let groups: number[];
  if (gap === -1) {
    groups = parse(head);
  } else {
    const left = parse(head.slice(0, gap));
    const right = parse(head.slice(gap + 2));
    groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  }
  if (tail.length > 0) groups.splice(groups.length - 2, 2, ...tail);
  return groups.length === 8 ? groups : undefined;
}
