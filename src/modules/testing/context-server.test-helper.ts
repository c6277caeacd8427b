/**
 * Test fixture for the module unit tests: a real node:http server on 127.0.0.1 whose handler
 * (given by each test file) builds a RequestContext and runs the module under test, and a
 * client that reads the whole reply. Excluded from the build (tsconfig.json).
 */
import { createServer, request, type IncomingHttpHeaders, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before } from 'node:test';
import type { FolderConfig } from '../../config/types.js';
import { RequestContext } from '../../http/request-context.js';
import { errorStep } from '../../pipeline/error-step.js';

/** ContextServer is the fixture server of one test file: its port, known once the file's `before` hooks ran. */
export interface ContextServer {
  readonly port: number;
}

/**
 * useContextServer registers a `before` hook that listens on 127.0.0.1, port 0, with `onRequest`
 * as the request handler, and an `after` hook that drops open connections and closes it.
 */
export function useContextServer(onRequest: RequestListener): ContextServer {
  const server = createServer(onRequest);
  const fixture = { port: 0 };
  before(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fixture.port = (server.address() as AddressInfo).port;
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  return fixture;
}

/**
 * staticContext builds the RequestContext of a static request the way the engine does: path
 * (decoded) and query from the URL, physical path under `root`, the folder configuration.
 */
export function staticContext(req: IncomingMessage, res: ServerResponse, root: string, config: FolderConfig, isHttps: boolean): RequestContext {
  const ctx = new RequestContext(req, res, { root, name: 'test' }, isHttps, errorStep);
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  ctx.path = decodeURIComponent(q === -1 ? raw : raw.slice(0, q));
  ctx.query = q === -1 ? '' : raw.slice(q + 1);
  ctx.hasQuery = q !== -1;
  ctx.physicalPath = root + ctx.path;
  ctx.config = config;
  ctx.handler = 'static';
  return ctx;
}

/** LocalReply is what fetchLocal read: status, headers, the body bytes, and whether it was cut. */
export interface LocalReply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
  /** The response ended before its last byte (connection cut). */
  readonly isCut: boolean;
}

/** LocalTextReply is a LocalReply whose body is decoded as UTF-8. */
export interface LocalTextReply extends Omit<LocalReply, 'body'> {
  readonly body: string;
}

/** FetchOptions are the method (GET unless given) and request headers of a fetchLocal request. */
export interface FetchOptions {
  readonly method?: string;
  readonly headers?: Record<string, string>;
}

/** fetchLocal sends one request to 127.0.0.1:`port` (no agent) and resolves when the response closes. */
export function fetchLocal(port: number, path: string, options: FetchOptions = {}): Promise<LocalReply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', () => {}); // a cut response reports ECONNRESET; 'close' tells the test
      res.on('close', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks), isCut: !res.complete }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** fetchLocalText is fetchLocal with the body decoded as UTF-8 text. */
export async function fetchLocalText(port: number, path: string, options: FetchOptions = {}): Promise<LocalTextReply> {
  const reply = await fetchLocal(port, path, options);
  return { status: reply.status, headers: reply.headers, body: reply.body.toString('utf8'), isCut: reply.isCut };
}
