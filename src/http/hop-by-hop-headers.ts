/**
 * hopByHopHeaders are the lower-case names of the header fields that concern one connection
 * only and that an intermediary removes before forwarding a message (RFC 9110 7.6.1):
 * `Connection` itself, `Proxy-Connection`, `Keep-Alive`, `TE`, `Transfer-Encoding` and
 * `Upgrade`. The fields a `Connection` header names are hop-by-hop as well; they are not in
 * this fixed list. A forwarder that reframes or tunnels some of these itself (the iisnode
 * transport keeps the client's Transfer-Encoding and Upgrade) says so where it differs.
 */
export const hopByHopHeaders: ReadonlySet<string> = new Set(['connection', 'proxy-connection', 'keep-alive', 'te', 'transfer-encoding', 'upgrade']);
