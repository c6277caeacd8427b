/**
 * A client that is not on the server's machine, as far as nodehost can tell: a network
 * namespace joined to the host by a veth pair (the way test/logs-http.test.ts makes one),
 * from which a small node script fetches URLs over the host side's address. Needs root and
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

/**
 * fetchFromRemote sets up a namespace named after `tag` and this process, fetches `paths` from
 * nodehost's `port` through it, and tears the namespace down again. It rejects when the
 * namespace cannot be made.
 */
export async function fetchFromRemote(tag: string, port: number, paths: readonly string[]): Promise<RemoteReply[]> {
  const id = process.pid % 100_000;
  const ns = `nh-${tag}-${process.pid}`;
  const vethHost = `nh${tag.slice(0, 2)}h${id}`;
  const vethNs = `nh${tag.slice(0, 2)}n${id}`;
  // A /30 of its own per test file and process, away from the log tests' 10.100-199 range.
  const net2 = 200 + (process.pid % 50);
  const net3 = (process.pid >> 6) % 250;
  const hostIp = `10.${net2}.${net3}.1`;
  const nsIp = `10.${net2}.${net3}.2`;
  const ip = (...args: string[]) => run('ip', args);
  await ip('netns', 'add', ns);
  try {
    await ip('link', 'add', vethHost, 'type', 'veth', 'peer', 'name', vethNs);
    await ip('link', 'set', vethNs, 'netns', ns);
    await ip('addr', 'add', `${hostIp}/30`, 'dev', vethHost);
    await ip('link', 'set', vethHost, 'up');
    await ip('netns', 'exec', ns, 'ip', 'addr', 'add', `${nsIp}/30`, 'dev', vethNs);
    await ip('netns', 'exec', ns, 'ip', 'link', 'set', vethNs, 'up');
    await ip('netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up');
    const { stdout } = await run('ip', ['netns', 'exec', ns, process.execPath, '-e', CLIENT, hostIp, String(port), ...paths], { timeout: 30_000 });
    return JSON.parse(stdout) as RemoteReply[];
  } finally {
    await ip('netns', 'del', ns).catch(() => undefined);
    await ip('link', 'del', vethHost).catch(() => undefined);
  }
}
