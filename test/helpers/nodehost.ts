/**
 * Helpers for feature tests: start the real `bin/nodehost` against a site folder and talk
 * to it with a real HTTP client.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { fileURLToPath } from 'node:url';
import { once } from 'node:events';
import { createServer as createNetServer, type AddressInfo } from 'node:net';

export const BIN = fileURLToPath(new URL('../../bin/nodehost', import.meta.url));
export const SITES = fileURLToPath(new URL('../sites/', import.meta.url));

/** RunningHost is a started nodehost; `stop` sends SIGTERM and resolves with the exit code. */
export interface RunningHost {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** Everything the host wrote to stderr so far (its JSON log lines). */
  stderr(): string;
  /** Everything the host wrote to stdout so far (the listening, control socket and admin listener lines). */
  stdout(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** StartOptions tune startNodehost. */
export interface StartOptions {
  env?: NodeJS.ProcessEnv;
  args?: string[];
  /** false: no `--port 0` (nodehost.yml's long form names its ports). */
  port?: false;
  /** A later line to wait for too (the control socket, the admin listener). */
  waitFor?: RegExp;
  /** The command that runs nodehost, e.g. `['npx', '--no', 'nodehost']` (default: this node with bin/nodehost). */
  command?: readonly [string, ...string[]];
  /** Working folder of the command (default: this process's). */
  cwd?: string;
}

/**
 * startNodehost runs `nodehost serve <site> --port 0` (no site argument when `site` is '';
 * no `--port` with `port: false`, for nodehost.yml's long form) and waits for its `listening`
 * line (at most 20 s), and for `waitFor` too when given.
 */
export async function startNodehost(site: string, options: StartOptions = {}): Promise<RunningHost> {
  const [program, ...prefix] = options.command ?? [process.execPath, BIN];
  const child = spawn(program, [...prefix, 'serve', ...(site ? [site] : []), ...(options.port === false ? [] : ['--port', '0']), ...(options.args ?? [])], {
    env: { ...process.env, ...options.env },
    cwd: options.cwd,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  let stdout = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`nodehost did not print 'listening' within 20 s\n${stdout}\n${stderr}`)), 20_000);
    const fail = (err: Error) => {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(err);
    };
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const match = /listening on (https?:\/\/\S+?)\/? /.exec(stdout);
      // waitFor: a later line too (the control socket, the admin listener).
      if (match && (options.waitFor === undefined || options.waitFor.test(stdout))) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    });
    child.once('exit', (code) => fail(new Error(`nodehost exited with ${code} before listening\n${stdout}\n${stderr}`)));
  });
  let exited: Promise<number | null> | undefined;
  return {
    url,
    port: Number(new URL(url).port),
    child,
    stderr: () => stderr,
    stdout: () => stdout,
    stop(signal = 'SIGTERM') {
      if (exited === undefined && child.exitCode === null) child.kill(signal);
      exited ??= child.exitCode !== null ? Promise.resolve(child.exitCode) : once(child, 'exit').then(([code]) => code as number | null);
      return exited;
    },
  };
}

/** freePort finds a TCP port that is free on 127.0.0.1 now (for nodehost.yml bindings in tests). */
export async function freePort(): Promise<number> {
  const server = createNetServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Reply is a fully read response. */
export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly rawHeaders: string[];
  readonly body: Buffer;
  readonly text: string;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  /** Send the body with Transfer-Encoding: chunked in these pieces. */
  chunks?: (string | Buffer)[];
  /** Keep-alive agent or false for a fresh connection. */
  agent?: false;
}

/** fetchRaw sends one request (the target is sent exactly as given) and reads the whole response. */
export function fetchRaw(base: string, target: string, options: RequestOptions = {}): Promise<Reply> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: url.hostname,
      port: url.port,
      method: options.method ?? 'GET',
      path: target,
      headers: options.headers,
      agent: false,
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const parts: Buffer[] = [];
      res.on('data', (chunk: Buffer) => parts.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(parts);
        resolve({ status: res.statusCode!, headers: res.headers, rawHeaders: res.rawHeaders, body, text: body.toString('utf8') });
      });
    });
    if (options.chunks) {
      for (const chunk of options.chunks) req.write(chunk);
      req.end();
    } else {
      req.end(options.body);
    }
  });
}
