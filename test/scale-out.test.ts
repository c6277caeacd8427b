/**
 * Scale-out (docs/scale-out.md): two nodehost instances on two loopback ports serve one shared
 * site folder behind Debian's HAProxy, then behind nginx. Requests are balanced over both; both
 * instances' worker logs land in the shared log folder; the balancer's X-Forwarded-For names the
 * real client in the access log (trustedProxies); a deploy (a file changed in the shared folder)
 * recycles both instances with no failed request; draining one instance (SIGTERM) moves the
 * traffic to the other with no failed request. Every load loop is bounded in count and time.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { accessLogLine } from './helpers/access-log.js';
import { waitFor } from './helpers/logs.js';
import { SITES, startNodehost, type RunningHost } from './helpers/nodehost.js';
import { fetchStrict } from './helpers/strict-http.js';

/**
 * The most requests one load loop sends, and the longest it runs. The count is large: a deploy is
 * seen when each instance has started its new generation, which takes the same time however
 * fast the requests go (400 requests once ran out before the second instance switched).
 */
const MAX_REQUESTS = 20_000;
const MAX_LOAD_MS = 30_000;
/** Requests sent side by side by a load loop. */
const CONCURRENCY = 4;

/** Answer is what the shared site's app says about itself. */
interface Answer {
  readonly instance: string;
  readonly pid: number;
  readonly version: string;
}

/** Instance is one running nodehost of the pair. */
interface Instance {
  readonly name: string;
  readonly host: RunningHost;
  readonly adminPort: number;
  readonly accessLogs: string;
}

/** Pair is the shared folder and its two instances. */
interface Pair {
  readonly dir: string;
  readonly site: string;
  readonly instances: readonly Instance[];
}

/** startPair copies the scale-out site into a new folder and starts instances `a` and `b` on it. */
async function startPair(): Promise<Pair> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nh-scale-out-'));
  const site = path.join(dir, 'site');
  fs.cpSync(`${SITES}scale-out`, site, { recursive: true });
  fs.copyFileSync(`${SITES}package.json`, path.join(dir, 'package.json'));
  const instances = await Promise.all(
    ['a', 'b'].map(async (name) => {
      // Each instance keeps its own access log folder (u_exYYMMDD.log would collide); the worker
      // logs share the site's folder, told apart by host name and pid.
      const yml = path.join(dir, `nodehost-${name}.yml`);
      fs.writeFileSync(yml, `root: site\nlogs: logs-${name}\ntrustedProxies: [127.0.0.1]\nadmin:\n  listen: 127.0.0.1:0\n`);
      const host = await startNodehost('', { args: ['--config', yml], env: { SCALE_OUT_INSTANCE: name }, waitFor: /admin listener http:\/\/\S+:\d+/ });
      const adminPort = Number(/admin listener http:\/\/\S+:(\d+)/.exec(host.stdout())![1]);
      return { name, host, adminPort, accessLogs: path.join(dir, `logs-${name}`, 'site') };
    }),
  );
  return { dir, site, instances };
}

async function stopPair(pair: Pair | undefined): Promise<void> {
  if (pair === undefined) return;
  await Promise.all(pair.instances.map((instance) => instance.host.stop()));
  fs.rmSync(pair.dir, { recursive: true, force: true });
}

/** freePort asks the system for a free loopback port for a balancer's front end. */
async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** Balancer is a running HAProxy or nginx. */
interface Balancer {
  readonly url: string;
  readonly child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

/** startBalancer runs `command` in the foreground and resolves once its front end (`port`) answers a request. */
async function startBalancer(command: string, args: string[], port: number): Promise<Balancer> {
  if (!fs.existsSync(command)) throw new Error(`${command} is missing: apt-get install -y haproxy nginx-light (.ci/run installs them)`);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
  const url = `http://127.0.0.1:${port}`;
  const balancer: Balancer = {
    url,
    child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
  // A balancer says nothing when it is ready: connect until its port accepts (bounded).
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${command} exited with ${child.exitCode}\n${output}`);
    const isOpen = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (isOpen) return balancer;
    if (Date.now() > deadline) throw new Error(`${command} did not open port ${port}\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Load is what a load loop saw. */
interface Load {
  readonly answers: Answer[];
  readonly failures: string[];
}

/**
 * load sends GET requests through `url`, CONCURRENCY at a time, until `isDone(answers)` holds,
 * MAX_REQUESTS were sent or MAX_LOAD_MS passed. `onRequest(n)` is called before request n.
 */
async function load(url: string, isDone: (answers: readonly Answer[]) => boolean, onRequest: (n: number) => void = () => undefined): Promise<Load> {
  const answers: Answer[] = [];
  const failures: string[] = [];
  const deadline = Date.now() + MAX_LOAD_MS;
  let sent = 0;
  const worker = async () => {
    while (!isDone(answers) && sent < MAX_REQUESTS && Date.now() < deadline) {
      onRequest(sent++);
      try {
        const reply = await fetchStrict(url, '/app/server.js');
        if (reply.status === 200) answers.push(JSON.parse(reply.text) as Answer);
        else failures.push(`status ${reply.status}: ${reply.text.slice(0, 200)}`);
      } catch (err) {
        failures.push((err as Error).message);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return { answers, failures };
}

const instancesIn = (answers: readonly Answer[]) => new Set(answers.map((answer) => answer.instance));

/** theSameTests are what both balancers must do; `balancer()` is the running one. */
function theSameTests(getPair: () => Pair, getBalancer: () => Balancer): void {
  it('balances requests over both instances', async () => {
    const { answers, failures } = await load(getBalancer().url, (seen) => seen.length >= 40);
    assert.deepEqual(failures, []);
    assert.deepEqual([...instancesIn(answers)].sort(), ['a', 'b']);
  });

  it("writes both instances' worker logs into the shared log folder, named by host and pid", async () => {
    const { answers } = await load(getBalancer().url, (seen) => new Set(seen.map((answer) => answer.pid)).size === 4);
    const folder = path.join(getPair().site, 'app', 'iisnode');
    const byPid = new Map(answers.map((answer) => [answer.pid, answer.instance]));
    assert.equal(byPid.size, 4, 'two workers of each instance answered');
    const files = await waitFor(
      folder,
      () => {
        const names = fs.existsSync(folder) ? fs.readdirSync(folder).filter((name) => name.includes('-stdout-')) : [];
        const pids = new Set(names.map((name) => Number(/-(\d+)-stdout-/.exec(name)?.[1])));
        return [...byPid.keys()].every((pid) => pids.has(pid)) ? names : undefined;
      },
      'a stdout log file of every worker',
    );
    for (const [pid, instance] of byPid) {
      const name = files.find((file) => file.startsWith(`${os.hostname()}-${pid}-stdout-`));
      assert.ok(name, `the log file of process ${pid}`);
      assert.match(fs.readFileSync(path.join(folder, name), 'utf8'), new RegExp(`^instance ${instance} process ${pid} serves version`));
    }
  });

  it('logs the real client behind the balancer (trustedProxies)', async () => {
    const probe = `client-${Date.now()}`;
    const reply = await fetchStrict(getBalancer().url, `/app/server.js?probe=${probe}`, { localAddress: '127.0.0.5' });
    const { instance } = JSON.parse(reply.text) as Answer;
    const served = getPair().instances.find((candidate) => candidate.name === instance)!;
    assert.equal((await accessLogLine(served.accessLogs, '/app/server.js', probe))['c-ip'], '127.0.0.5');
  });

  it('recycles both instances on a deploy to the shared folder, with no failed request', async () => {
    const version = path.join(getPair().site, 'app', 'version.txt');
    const { answers, failures } = await load(
      getBalancer().url,
      (seen) => instancesIn(seen.filter((answer) => answer.version === '2')).size === 2,
      (n) => {
        if (n === 20) fs.writeFileSync(version, '2\n');
      },
    );
    assert.deepEqual(failures, []);
    assert.deepEqual([...instancesIn(answers.filter((answer) => answer.version === '2'))].sort(), ['a', 'b']);
  });

  it('drains one instance (SIGTERM) while the balancer moves its traffic to the other, with no failed request', async () => {
    const [a, b] = getPair().instances as [Instance, Instance];
    let exitCode: number | null | undefined;
    // How many answers had arrived when instance a exited: b must serve 40 more.
    let answersAtExit: number | undefined;
    const { answers, failures } = await load(
      getBalancer().url,
      (seen) => {
        if (exitCode !== undefined) answersAtExit ??= seen.length;
        return answersAtExit !== undefined && seen.length - answersAtExit >= 40;
      },
      (n) => {
        if (n === 20) void a.host.stop().then((code) => (exitCode = code));
      },
    );
    assert.deepEqual(failures, []);
    assert.equal(exitCode, 0, 'instance a stopped cleanly');
    assert.ok(answersAtExit !== undefined && answers.length - answersAtExit >= 40, 'instance b served the traffic after a left');
    assert.deepEqual([...instancesIn(answers.slice(answersAtExit))], ['b']);
    assert.deepEqual([...instancesIn(answers)].sort(), ['a', 'b']);
    assert.equal(b.host.child.exitCode, null);
  });
}

describe('behind HAProxy', () => {
  let pair: Pair;
  let balancer: Balancer;
  before(async () => {
    pair = await startPair();
    const port = await freePort();
    const [a, b] = pair.instances as [Instance, Instance];
    const config = path.join(pair.dir, 'haproxy.cfg');
    fs.writeFileSync(config, haproxyConfig(port, a, b));
    balancer = await startBalancer('/usr/sbin/haproxy', ['-db', '-f', config], port);
  });
  after(async () => {
    await balancer?.stop();
    await stopPair(pair);
  });
  theSameTests(
    () => pair,
    () => balancer,
  );
});

describe('behind nginx', () => {
  let pair: Pair;
  let balancer: Balancer;
  before(async () => {
    pair = await startPair();
    const port = await freePort();
    const [a, b] = pair.instances as [Instance, Instance];
    const prefix = path.join(pair.dir, 'nginx');
    fs.mkdirSync(prefix);
    fs.writeFileSync(path.join(prefix, 'nginx.conf'), nginxConfig(port, prefix, a, b));
    balancer = await startBalancer('/usr/sbin/nginx', ['-p', prefix, '-c', path.join(prefix, 'nginx.conf')], port);
  });
  after(async () => {
    await balancer?.stop();
    await stopPair(pair);
  });
  theSameTests(
    () => pair,
    () => balancer,
  );
});

/** haproxyConfig is docs/scale-out.md's HAProxy configuration with this test's ports (and quick health checks). */
function haproxyConfig(port: number, a: Instance, b: Instance): string {
  return `global
  maxconn 256

defaults
  mode http
  timeout connect 5s
  timeout client 30s
  timeout server 30s
  option forwardfor
  option redispatch
  retries 3
  retry-on conn-failure empty-response response-timeout

frontend web
  bind 127.0.0.1:${port}
  default_backend nodehost

backend nodehost
  balance roundrobin
  option httpchk GET /ready
  http-check expect status 200
  default-server check inter 200ms fall 1 rise 2
  server a 127.0.0.1:${a.host.port} port ${a.adminPort}
  server b 127.0.0.1:${b.host.port} port ${b.adminPort}
`;
}

/** nginxConfig is docs/scale-out.md's nginx configuration with this test's ports and a private prefix. */
function nginxConfig(port: number, prefix: string, a: Instance, b: Instance): string {
  return `daemon off;
worker_processes 1;
${process.getuid?.() === 0 ? 'user root root;' : ''}
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;

events {
  worker_connections 256;
}

http {
  access_log off;
  client_body_temp_path ${prefix}/client-body;
  proxy_temp_path ${prefix}/proxy;
  fastcgi_temp_path ${prefix}/fastcgi;
  uwsgi_temp_path ${prefix}/uwsgi;
  scgi_temp_path ${prefix}/scgi;

  upstream nodehost {
    server 127.0.0.1:${a.host.port} max_fails=1 fail_timeout=10s;
    server 127.0.0.1:${b.host.port} max_fails=1 fail_timeout=10s;
    keepalive 16;
  }

  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://nodehost;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_next_upstream error timeout http_502 http_503;
      proxy_next_upstream_tries 3;
    }
  }
}
`;
}
