/**
 * `nodehost rewrite test <site> <url>`: the URL Rewrite rule tracer. It loads the site's
 * web.config files (and the global rules of nodehost.yml), runs the inbound rules for one
 * made-up request and prints every rule with its input, match, captures, conditions, server
 * variables and action, then where the request ends up. `<site>` is a site name of nodehost.yml
 * or a site folder, optionally followed by a URL path (site-argument.ts): `shop/node /a` traces
 * `/node/a` on the site shop. Exit 0 when traced, 1 when the site is not found or its
 * configuration has errors (each printed as file:line), 2 for a usage error.
 */
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { loadHostConfig } from '../config/host-config.js';
import { SiteConfig } from '../config/site-config.js';
import { resolveSiteArgument } from './site-argument.js';
import type { RewriteTraceReport, RuleStepTrace, TraceResult } from '../modules/url-rewrite/rewrite-trace.js';

interface RewriteTestFlags {
  header: [string, string][];
  method: string;
  json?: boolean;
  config?: string;
}

function collectHeader(value: string, previous: [string, string][]): [string, string][] {
  const colon = value.indexOf(':');
  if (colon <= 0) throw new InvalidArgumentError("must be 'name: value'");
  const name = value.slice(0, colon).trim();
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name)) throw new InvalidArgumentError(`'${name}' is not a header name`);
  return [...previous, [name, value.slice(colon + 1).trim()]];
}

function parseMethod(value: string): string {
  if (!/^[A-Za-z]+$/.test(value)) throw new InvalidArgumentError('must be an HTTP method, e.g. GET');
  return value.toUpperCase();
}

function parseTraceUrl(value: string): string {
  if (!value.startsWith('/') && !/^https?:\/\//i.test(value)) throw new InvalidArgumentError("must start with '/' or http(s)://");
  return value;
}

/** registerRewriteCommand adds `rewrite test` to the program. */
export function registerRewriteCommand(program: Command): void {
  const rewrite = program.command('rewrite').description('URL Rewrite tools (see: nodehost rewrite test --help)');
  rewrite
    .command('test')
    .description('trace the inbound URL Rewrite rules for one request: every rule, its input, captures, conditions and action, and the final URL or response')
    .argument('<site>', 'a site name of nodehost.yml (--config, or ./nodehost.yml) or a site folder, optionally followed by a URL path: shop/node')
    .argument('<url>', "request URL: '/path?query' or 'http(s)://host/path?query' (host and scheme then become Host and HTTPS)", parseTraceUrl)
    .option('--header <name:value>', 'a request header (repeatable)', collectHeader, [])
    .option('--method <method>', 'request method', parseMethod, 'GET')
    .option('--config <file>', 'host configuration file (nodehost.yml) naming the site; its globalRules run first (default ./nodehost.yml for a site name)')
    .option('--json', 'print the trace as JSON')
    .addHelpText(
      'after',
      `
Examples:
  nodehost rewrite test ./site /css/site.css
  nodehost rewrite test ./site 'https://example.com/old/page?id=7' --header 'User-Agent: curl'
  nodehost rewrite test ./site /api/items --method POST --config nodehost.yml --json
  nodehost rewrite test shop/node /hello.js --config /etc/nodehost/nodehost.yml   # /node/hello.js on the site shop

Exit codes: 0 traced, 1 no such site or the configuration has errors, 2 usage error.`,
    )
    .action(runRewriteTest);
}

async function runRewriteTest(siteArg: string, url: string, flags: RewriteTestFlags): Promise<void> {
  // An unknown site, and nodehost.yml errors, throw a NodehostError (naming file:line): main prints it and exits 1.
  const site = resolveSiteArgument(siteArg, flags.config);
  // The global rules of the nodehost.yml that named the site, else of --config.
  const host = site.host ?? (flags.config === undefined ? undefined : loadHostConfig(path.resolve(flags.config)));
  const config = SiteConfig.load(site.root, process.env, { compression: host?.compression }, site.paths);
  if (config.errors.length > 0) {
    for (const err of config.errors) process.stderr.write(`${err.toString()}\n`);
    process.stderr.write(`nodehost: the site configuration has ${config.errors.length} error(s); nothing traced\n`);
    process.exitCode = 1;
    return;
  }
  const request = { method: flags.method, url: site.urlPath === '/' ? url : underPath(url, site.urlPath), headers: flags.header };
  // The tracer and the rewrite engine it runs are loaded here: `serve` of a site without rules never needs them.
  const { traceRewrite } = await import('../modules/url-rewrite/rewrite-trace.js');
  const report = traceRewrite(site.root, config, host?.globalRules, request, site.paths);
  process.stdout.write(flags.json ? `${JSON.stringify(report, null, 2)}\n` : formatTrace(report, site.root));
  process.exitCode = 0;
}

/** underPath puts a request URL below the URL path of the site argument (`/a?q` under `/node` is `/node/a?q`), keeping an absolute URL's scheme and host. */
function underPath(url: string, prefix: string): string {
  const absolute = /^(https?:\/\/[^/?#]*)(.*)$/i.exec(url);
  if (absolute === null) return prefix + url;
  const rest = absolute[2]!;
  return absolute[1]! + prefix + (rest.startsWith('/') ? rest : `/${rest}`);
}

/** formatTrace renders a trace for people: one block per rule, then the result. */
export function formatTrace(report: RewriteTraceReport, root: string): string {
  const lines: string[] = [`${report.request.method} ${report.request.url}`];
  for (const [name, value] of Object.entries(report.request.headers)) lines.push(`  ${name}: ${value}`);
  if (report.passes.length === 0) lines.push('', 'no inbound rule applies to this URL');
  for (const pass of report.passes) {
    lines.push('', pass.kind === 'global' ? `global rules (${pass.ruleCount})` : `rules of the configuration of ${pass.path} (${pass.ruleCount})`);
    for (const rule of pass.rules) lines.push(...formatRule(rule, root));
    if (pass.rules.length < pass.ruleCount && pass.rules.at(-1)?.isStop)
      lines.push(`  (stopProcessing: the remaining ${pass.ruleCount - pass.rules.length} rule(s) did not run)`);
  }
  lines.push('', `result: ${formatResult(report.result)}`);
  for (const [name, value] of Object.entries(report.serverVariables)) lines.push(`  server variable ${name} = ${JSON.stringify(value)}`);
  for (const [name, value] of Object.entries(report.requestHeaders)) lines.push(`  request header ${name}: ${value}`);
  for (const [name, value] of Object.entries(report.responseHeaders)) lines.push(`  response header ${name}: ${value}`);
  return `${lines.join('\n')}\n`;
}

function formatRule(rule: RuleStepTrace, root: string): string[] {
  const source = path.relative(root, rule.source.slice(0, rule.source.lastIndexOf(':'))) + rule.source.slice(rule.source.lastIndexOf(':'));
  const head = `  rule "${rule.name}" (${source.startsWith('..') ? rule.source : source})`;
  if (!rule.applies) return [`${head}: not applied (${rule.input} is not under ${rule.scope})`];
  const out = [`${head}: ${rule.isMatch ? 'MATCH' : 'no match'}`];
  const negate = rule.negate ? ' (negate)' : '';
  out.push(
    `    match ${JSON.stringify(rule.input)} against ${rule.patternSyntax} ${JSON.stringify(rule.pattern)}${negate}: ${rule.isPatternMatch ? 'matched' : 'not matched'}`,
  );
  out.push(...captureLines('R', rule.ruleCaptures));
  if (rule.conditions.length > 0) out.push(`    conditions (${rule.logicalGrouping})`);
  for (const c of rule.conditions) {
    const what = c.matchType === 'Pattern' ? `${JSON.stringify(c.pattern)}` : c.matchType;
    out.push(`      ${c.input} = ${JSON.stringify(c.value)} ${c.negate ? 'not ' : ''}${what}: ${c.isMatch ? 'true' : 'false'}`);
    if (c.captures.length > 1) out.push(...captureLines('', c.captures).map((line) => `  ${line}`));
  }
  if (rule.isMatch) out.push(...captureLines('C', rule.conditionCaptures));
  for (const set of rule.serverVariables) out.push(`    set ${set.name} = ${JSON.stringify(set.value)}`);
  if (rule.isMatch) {
    const url = rule.action.type === 'Rewrite' || rule.action.type === 'Redirect' ? ` url="${rule.action.url}"` : '';
    out.push(
      `    action ${rule.action.type}${url}: ${rule.outcome}${rule.outcome === 'rewrite' ? ` -> ${rule.urlAfter}` : ''}${rule.isStop ? ' (stopProcessing)' : ''}`,
    );
  }
  return out;
}

function captureLines(letter: string, captures: readonly string[]): string[] {
  if (captures.length === 0) return [];
  return [`    ${captures.map((value, i) => (letter === '' ? `{${i}}` : `{${letter}:${i}}`) + `=${JSON.stringify(value)}`).join(' ')}`];
}

function formatResult(result: TraceResult): string {
  switch (result.kind) {
    case 'unchanged':
      return `not rewritten: ${result.url}`;
    case 'rewrite':
      return `rewritten to ${result.url}`;
    case 'redirect':
      return `redirect ${result.status} Location: ${result.location}`;
    case 'response':
      return `custom response ${result.status}${result.substatus ? `.${result.substatus}` : ''}${result.reason ? ` ${result.reason}` : ''}${result.description ? ` (${JSON.stringify(result.description)})` : ''}`;
    case 'abort':
      return 'abort (the connection is closed without a response)';
    case 'proxy':
      return `proxied to ${result.target}`;
    case 'bad-url':
      return `error: the rewrite produced an unusable URL ${result.url} (500.50)`;
    case 'bad-request':
      return `error: the request target cannot name a resource (400) ${result.url}`;
  }
}
