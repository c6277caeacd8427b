/**
 * url-rewrite.bench.ts measures what URL Rewrite costs one request in CPU, in process (no
 * HTTP, so a busy machine disturbs it little): the inbound passes of the benchmark's Kudu
 * template (bench/sites/kudu: 10 rules, the last two the IsFile routing) for `/users/42`, which
 * passes every rule and is rewritten to the app. Run:
 * `node --import tsx src/modules/url-rewrite/url-rewrite.bench.ts [--requests N]`.
 */
import { copyFileSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { SiteConfig } from '../../config/site-config.js';
import type { HttpResponse } from '../../http/http-response.js';
import { type ErrorResponder, RequestContext } from '../../http/request-context.js';
import { parseRequestUrl } from '../../http/request-url.js';
import { runRewritePasses } from './url-rewrite.js';

const { values } = parseArgs({ options: { requests: { type: 'string', default: '200000' } } });
const requests = Number(values.requests);
const site = mkdtempSync(join(tmpdir(), 'nh-rewrite-bench-'));
const template = new URL('../../../bench/sites/kudu/web.config', import.meta.url);
copyFileSync(template, join(site, 'web.config'));
mkdirSync(join(site, 'public'));
const config = SiteConfig.load(site, {});
const socket = new Socket();
const NO_ERRORS = {} as ErrorResponder;

function rewriteOnce(target: string, isRewriting = true): boolean {
  const req = new IncomingMessage(socket);
  req.url = target;
  req.method = 'GET';
  req.headers = { host: 'example.test', 'user-agent': 'bench' };
  const ctx = new RequestContext(req, {} as HttpResponse, { root: site, name: 'bench' }, false, NO_ERRORS);
  const url = parseRequestUrl(target)!;
  ctx.path = url.path;
  ctx.query = url.query;
  ctx.hasQuery = url.hasQuery;
  ctx.config = config.forPath(url.path);
  if (!isRewriting) return true;
  const result = runRewritePasses(ctx, config, undefined, undefined);
  return result.kind === 'continue' && ctx.isRewritten;
}

function measure(target: string, isRewriting: boolean): number {
  const started = process.cpuUsage();
  for (let i = 0; i < requests; i++) if (!rewriteOnce(target, isRewriting)) throw new Error(`${target} was not rewritten`);
  const used = process.cpuUsage(started);
  return (used.user + used.system) / requests;
}

measure('/users/42', true);
// The request context and its message alone, to subtract.
const harness = measure('/users/42', false);
const us = measure('/users/42', true) - harness;
rmSync(site, { recursive: true, force: true });
process.stdout.write(
  `url rewrite (Kudu template, 10 rules): ${us.toFixed(2)} µs of CPU per request (${requests} requests; harness ${harness.toFixed(2)} µs)\n`,
);
