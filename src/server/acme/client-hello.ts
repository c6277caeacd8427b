/**
 * alpnOfClientHello reads the ALPN protocol names a TLS ClientHello offers (RFC 8446 §4.1.2,
 * RFC 7301), from the bytes a connection starts with. It answers 'more' while the first record
 * is incomplete and [] when the bytes are no ClientHello or offer no ALPN.
 */
export function alpnOfClientHello(bytes: Buffer): string[] | 'more' {
  // Record: type 22 (handshake), version (2), length (2); then the handshake: type 1, length (3).
  if (bytes.length < 5) return 'more';
  if (bytes[0] !== 22) return [];
  const end = 5 + bytes.readUInt16BE(3);
  if (bytes.length < end) return 'more';
  if (bytes[5] !== 1) return [];
  // Skip handshake header (4), client version (2), random (32).
  let at = 5 + 4 + 2 + 32;
  const skip = (lengthBytes: 1 | 2): boolean => {
    if (at + lengthBytes > end) return false;
    at += lengthBytes + (lengthBytes === 1 ? bytes[at]! : bytes.readUInt16BE(at));
    return at <= end;
  };
  // Session id, cipher suites, compression methods.
  if (!skip(1) || !skip(2) || !skip(1) || at + 2 > end) return [];
  const extensionsEnd = Math.min(end, at + 2 + bytes.readUInt16BE(at));
  at += 2;
  while (at + 4 <= extensionsEnd) {
    const type = bytes.readUInt16BE(at);
    const length = bytes.readUInt16BE(at + 2);
    const body = at + 4;
    at = body + length;
    if (type !== 16 || at > extensionsEnd) continue;
    // ALPN: a 2-byte list length, then names each with a 1-byte length.
    const protocols: string[] = [];
    for (let name = body + 2; name < at; name += 1 + bytes[name]!) protocols.push(bytes.toString('latin1', name + 1, Math.min(at, name + 1 + bytes[name]!)));
    return protocols;
  }
  return [];
}
