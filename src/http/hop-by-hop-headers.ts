/**
 * hopByHopHeaders are the lower-case names of the header fields that concern one connection
 * only and that an intermediary removes before forwarding a message (RFC 9110 7.6.1):
 * `Connection` itself, `Proxy-Connection`, `Keep-Alive`, `TE`, `Transfer-Encoding` and
 * `Upgrade`. The fields a `Connection` header names are hop-by-hop as well: `connectionOptions`
 * below lists them per message. A forwarder that reframes or tunnels some of these itself (the iisnode
 * transport keeps the client's Transfer-Encoding and Upgrade) says so where it differs.
 */
export const hopByHopHeaders: ReadonlySet<string> = new Set(['connection', 'proxy-connection', 'keep-alive', 'te', 'transfer-encoding', 'upgrade']);

/**
 * connectionOptions lists the lower-case field names a message's `Connection` header(s) name in
 * the raw header list (name, value, ...): hop-by-hop for this message only (RFC 9110 7.6.1),
 * so an intermediary removes them with the fixed list. Undefined when there are none, the
 * common case, so that costs no allocation.
 */
export function connectionOptions(raw: readonly string[]): Set<string> | undefined {
  let names: Set<string> | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i]!.length !== 10 || raw[i]!.toLowerCase() !== 'connection') continue;
    for (const token of raw[i + 1]!.split(',')) {
      const name = token.trim().toLowerCase();
      if (name === '' || name === 'close' || name === 'keep-alive') continue;
      names ??= new Set();
      names.add(name);
    }
  }
  return names;
}
