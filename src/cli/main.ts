/**
 * The `nodehost` command: `serve` runs a site, `check` validates its configuration.
 */
import { Command, InvalidArgumentError } from 'commander';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { loadHostConfig, type HostConfig } from '../config/host-config.js';
import { checkSite, formatCheckReport } from '../config/check.js';
import { NodehostError } from '../errors.js';
import { HostLog } from '../host-log.js';
import { NodehostServer } from '../server/server.js';

const version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return port;
}

interface ServeFlags {
  port?: number;
  host?: string;
  config?: string;
}

async function serve(siteArg: string | undefined, flags: ServeFlags): Promise<void> {
  const log = new HostLog();
  const file: HostConfig = flags.config ? loadHostConfig(resolve(flags.config)) : { root: undefined, name: undefined, host: undefined, port: undefined };
  const server = new NodehostServer({
    siteRoot: siteArg ?? file.root ?? '.',
    host: flags.host ?? file.host ?? '127.0.0.1',
    port: flags.port ?? file.port ?? 8080,
    siteName: file.name,
    log,
  });
  const url = await server.start();
  process.stdout.write(`nodehost ${version} listening on ${url} (site ${server.site.root})\n`);
  let signalled = false;
  const stop = (signal: string) => {
    if (signalled) return;
    signalled = true;
    log.info('shutting down', { signal });
    server.close().then(
      () => process.exit(0),
      (err) => {
        log.error('shutdown failed', { err });
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

function check(siteArg: string | undefined): void {
  const report = checkSite(resolve(siteArg ?? '.'), process.env);
  process.stdout.write(formatCheckReport(report));
  process.exitCode = report.errors.length > 0 ? 1 : 0;
}

const program = new Command('nodehost')
  .description('Host Node.js applications and static sites the way iisnode did on IIS.')
  .version(version);

program
  .command('serve')
  .description('serve a site folder (web.config, iisnode.yml, node apps, static files)')
  .argument('[siteRoot]', 'site folder (default: the current folder, or root in --config)')
  .option('--port <port>', 'TCP port to listen on (default 8080; 0 picks a free one)', parsePort)
  .option('--host <host>', 'address to bind (default 127.0.0.1)')
  .option('--config <file>', 'host configuration file (nodehost.yml)')
  .action(serve);

program
  .command('check')
  .description('validate every web.config and iisnode.yml of a site and print each application\'s effective settings')
  .argument('[siteRoot]', 'site folder (default: the current folder)')
  .action(check);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof NodehostError) process.stderr.write(`nodehost: ${err.toString()}\n`);
  else process.stderr.write(`nodehost: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
