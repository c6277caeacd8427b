/**
 * A client that is not on the server's machine, as far as nodehost can tell: a network
 * namespace joined to the host by a veth pair, from which a small node script fetches URLs
 * over the host side's address. Needs root and
 * iproute2 (`.ci/run` has both).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** RemoteReply is one response as the remote client read it. */
export interface RemoteReply {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: string;
}

// Fetches each path in turn (fresh connections) and prints the replies as JSON.
const CLIENT =
  "const http=require('http');const get=(p)=>new Promise((ok)=>{http.get({host:process.argv[1],port:process.argv[2],path:p,agent:false},(r)=>{let b='';r.setEncoding('utf8');r.on('data',(c)=>b+=c);r.on('end',()=>ok({status:r.statusCode,headers:r.headers,body:b}));}).on('error',(e)=>ok({status:0,headers:{},body:'ERR '+e.message}));});" +
  '(async()=>{const out=[];for(const p of process.argv.slice(3))out.push(await get(p));console.log(JSON.stringify(out));})();';

/** RemoteNamespace is a client machine made for a test: the host side's address, and a way to run node in it. */
export interface RemoteNamespace {
  /** The host's address as the namespace sees it (nodehost must listen on it, e.g. 0.0.0.0). */
  readonly hostIp: string;
  /** The client's own address, as nodehost sees it (REMOTE_ADDR). */
  readonly clientIp: string;
  /** node runs `node <args>` inside the namespace and resolves with its stdout. */
  node(args: readonly string[]): Promise<string>;
}

/**
 * remoteAddresses are the two ends of the /30 that inRemoteNamespace(tag) uses in this process,
 * known before it runs (a test can name the client in a site's configuration first).
 */
export function remoteAddresses(tag: string): { hostIp: string; clientIp: string } {
  // Test files run in parallel: the tag and the pid pick the /30, so two files do not share one.
  let salt = 0;
  for (const ch of tag) salt = (salt * 31 + ch.charCodeAt(0)) % 997;
  const net2 = 100 + ((process.pid + salt) % 150);
  const net3 = ((process.pid >> 7) + salt) % 250;
  return { hostIp: `10.${net2}.${net3}.1`, clientIp: `10.${net2}.${net3}.2` };
}

/**
 * inRemoteNamespace sets up a network namespace named after `tag` and this process, joined to
 * the host by a veth pair on a /30 of its own, runs `use` with it and tears it down again,
 * whatever `use` does. It fails naming what is missing when namespaces cannot be made.
 */
export async function inRemoteNamespace<T>(tag: string, use: (remote: RemoteNamespace) => Promise<T>): Promise<T> {
  const id = process.pid % 100_000;
  const ns = `nh-${tag}-${process.pid}`;
  const vethHost = `nh${tag.slice(0, 2)}h${id}`;
  const vethNs = `nh${tag.slice(0, 2)}n${id}`;
  const { hostIp, clientIp: nsIp } = remoteAddresses(tag);
  const ip = (...args: string[]) => run('ip', args);
  try {
    await ip('netns', 'add', ns);
  } catch (err) {
    throw new Error(`ip netns is not available here (run as root with iproute2; .ci/run installs it): ${(err as Error).message}`);
  }
  try {
    await ip('link', 'add', vethHost, 'type', 'veth', 'peer', 'name', vethNs);
    await ip('link', 'set', vethNs, 'netns', ns);
    await ip('addr', 'add', `${hostIp}/30`, 'dev', vethHost);
    await ip('link', 'set', vethHost, 'up');
    await ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${nsIp}/30`, 'dev', vethNs);
    await ip('netns', 'exec', ns, 'ip', 'link', 'set', vethNs, 'up');
    await ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
    const node = async (args: readonly string[]): Promise<string> =>
      (await run('ip', ['netns', 'exec', ns, process.execPath, ...args], { timeout: 30_000 })).stdout;
    return await use({ hostIp, clientIp: nsIp, node });
  } finally {
    await ip('netns', 'del', ns).catch(() => undefined);
    await ip('link', 'del', vethHost).catch(() => undefined);
  }
}

/** fetchFromRemote fetches `paths` from nodehost's `port` through a namespace of its own (inRemoteNamespace). */
export async function fetchFromRemote(tag: string, port: number, paths: readonly string[]): Promise<RemoteReply[]> {
  return inRemoteNamespace(tag, async ({ hostIp, node }) => JSON.parse(await node(['-e', CLIENT, hostIp, String(port), ...paths])) as RemoteReply[]);
}
