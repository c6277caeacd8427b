/**
 * WebSocket echo round trips per second, through nodehost and directly to the app, as a
 * ratio: `node --import tsx bench/websocket.ts [--seconds 5] [--clients 10]`. Each client
 * sends a 32-byte message and waits for its echo before sending the next; the count over a
 * fixed time is the figure. Traffic stays on 127.0.0.1.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { BENCH_DIR, REPO_ROOT } from './scenarios.js';

const args = process.argv.slice(2);
const seconds = Number(args[args.indexOf('--seconds') + 1] || 5) || 5;
const clients = Number(args[args.indexOf('--clients') + 1] || 10) || 10;

function waitForLine(child: ChildProcess, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      out += chunk;
      const m = pattern.exec(out);
      if (m) resolve(m[1]!);
    });
    child.once('exit', (code) => reject(new Error(`exited with ${code}: ${out}`)));
  });
}

async function roundTrips(url: string): Promise<number> {
  const sockets = await Promise.all(Array.from({ length: clients }, () => new Promise<WebSocket>((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.once('open', () => resolve(ws));
    ws.once('error', reject);
  })));
  const payload = Buffer.alloc(32, 'x');
  let count = 0;
  const deadline = Date.now() + seconds * 1000;
  await Promise.all(sockets.map((ws) => new Promise<void>((resolve) => {
    ws.on('message', () => {
      count++;
      if (Date.now() < deadline) ws.send(payload);
      else resolve();
    });
    ws.send(payload);
  })));
  for (const ws of sockets) ws.terminate();
  return count / seconds;
}

async function main(): Promise<void> {
  const site = mkdtempSync(join(tmpdir(), 'nodehost-wsbench-'));
  cpSync(join(BENCH_DIR, 'sites', 'wsecho'), site, { recursive: true });
  // The copied app resolves `ws` from this checkout.
  const env = { ...process.env, NODE_PATH: join(REPO_ROOT, 'node_modules') };
  createRequire(import.meta.url).resolve('ws');
  const alone = spawn(process.execPath, ['-e', `process.env.PORT='0';const s=require('http').Server.prototype.listen;require('http').Server.prototype.listen=function(){return s.call(this,0,'127.0.0.1',()=>console.log('port '+this.address().port))};require(${JSON.stringify(join(site, 'echo.js'))})`], { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const host = spawn(process.execPath, [join(REPO_ROOT, 'bin', 'nodehost'), 'serve', site, '--port', '0'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
  try {
    const port = await waitForLine(alone, /port (\d+)/);
    const base = await waitForLine(host, /listening on (http:\/\/\S+?)\/? /);
    const direct = await roundTrips(`ws://127.0.0.1:${port}/`);
    const through = await roundTrips(`${base.replace('http://', 'ws://')}/echo.js`);
    console.log(`websocket echo, ${clients} clients, ${seconds} s each`);
    console.log(`  app alone:      ${Math.round(direct)} round trips/s`);
    console.log(`  nodehost:       ${Math.round(through)} round trips/s`);
    console.log(`  ratio nodehost/app: ${(through / direct).toFixed(2)}`);
  } finally {
    alone.kill();
    host.kill();
    await new Promise((resolve) => setTimeout(resolve, 300));
    rmSync(site, { recursive: true, force: true });
  }
}

await main();
