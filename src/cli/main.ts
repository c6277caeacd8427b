/**
 * The `nodehost` command: `serve` runs a site, `check` validates its configuration.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { basename, resolve } from 'node:path';
import { loadHostConfig, parseHostProcesses, type HostConfig } from '../config/host-config.js';
import { checkSite, formatCheckReport } from '../config/check.js';
import { NodehostError } from '../errors.js';
import { HostLog } from '../host-log.js';
import { NodehostServer, type ServerOptions } from '../server/server.js';
import { isFrontDoorProcess, serveFrontDoors } from '../server/front-doors.js';
import { registerLogsCommand } from './logs-command.js';
import { ControlServer } from '../control/control-server.js';
import { controlRequest, ControlUnreachableError } from '../control/control-client.js';
import { controlPaths } from '../control/paths.js';
import { version } from '../version.js';

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return port;
}

function parseHostProcessesFlag(value: string): number {
  const count = parseHostProcesses(value);
  if (count === undefined) throw new InvalidArgumentError("must be a positive integer or 'auto'");
  return count;
}

interface ServeFlags {
  port?: number;
  host?: string;
  config?: string;
  hostProcesses?: number;
}

async function serve(siteArg: string | undefined, flags: ServeFlags): Promise<void> {
  const log = new HostLog();
  const file: HostConfig = flags.config ? loadHostConfig(resolve(flags.config)) : { root: undefined, name: undefined, host: undefined, port: undefined };
  if (file.sites !== undefined && (siteArg !== undefined || flags.port !== undefined)) {
    throw new NodehostError(
      'NH_ERR_CLI_USAGE',
      `${flags.config} has 'sites' (the long form): each site names its root and bindings there, so neither a site folder nor --port can be given`,
    );
  }
  const accessLogDir = (root: string, name: string): string =>
    file.logs === undefined ? resolve(root, '..', 'logs', name) : file.logs === '' ? '' : resolve(file.logs, name);
  const options: ServerOptions = {
    siteRoot: siteArg ?? file.root ?? '.',
    host: flags.host ?? file.host ?? '127.0.0.1',
    port: flags.port ?? file.port ?? 8080,
    siteName: file.name,
    globalRules: file.globalRules,
    ...(file.logs === undefined
      ? {}
      : { accessLogDir: file.logs === '' ? '' : resolve(file.logs, file.name ?? basename(resolve(siteArg ?? file.root ?? '.'))) }),
    ...(file.sites === undefined
      ? {}
      : {
          sites: file.sites.map((site) => ({
            root: site.root,
            name: site.name,
            accessLogDir: accessLogDir(site.root, site.name),
            bindings: site.bindings,
            tls: site.tls,
            acme: site.acme,
            redirectToHttps: site.redirectToHttps,
            hsts: site.hsts,
          })),
          defaultSite: file.defaultSite,
          acme: file.acme,
        }),
    log,
  };
  const hostProcesses = flags.hostProcesses ?? file.hostProcesses ?? 1;
  if (hostProcesses > 1 && file.acme !== undefined)
    throw new NodehostError('NH_ERR_CLI_USAGE', `${flags.config} has a site with 'tls: { acme: true }': automatic certificates need one host process`);
  if (hostProcesses > 1 || isFrontDoorProcess()) {
    await serveFrontDoors(hostProcesses, options, (url, root) => `nodehost ${version} listening on ${url} (site ${root}, ${hostProcesses} host processes)`);
    return;
  }
  const server = new NodehostServer(options);
  const url = await server.start();
  process.stdout.write(`nodehost ${version} listening on ${url} (site ${server.site.root})\n`);
  for (const other of server.urls.slice(1)) process.stdout.write(`also listening on ${other}\n`);
  // The control API (DESIGN §5): `nodehost recycle|status` find it through the pid file.
  const control = new ControlServer(controlPaths(server.site.root), server);
  try {
    await control.start(server.site.root, url);
    process.stdout.write(`control socket ${control.paths.socketPath} (pid file ${control.paths.pidFile})\n`);
  } catch (err) {
    log.warn('control socket unavailable', { path: control.paths.socketPath, err });
  }
  let signalled = false;
  const stop = (signal: string) => {
    if (signalled) return;
    signalled = true;
    log.info('shutting down', { signal });
    control.close();
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

interface RecycleFlags {
  app?: string;
}

interface RecycledApp {
  script: string;
  result: { isServing: boolean; generation: number; error?: string };
}

async function recycle(siteArg: string | undefined, flags: RecycleFlags): Promise<void> {
  const root = resolve(siteArg ?? '.');
  try {
    const reply = await controlRequest(root, { cmd: 'recycle', ...(flags.app === undefined ? {} : { app: flags.app }) });
    if (!reply.ok) throw new ControlUnreachableError(reply.error ?? 'the server refused the request');
    const recycled = (reply.result as { recycled: RecycledApp[] }).recycled;
    if (recycled.length === 0) {
      process.stdout.write(flags.app === undefined ? 'no application is running\n' : `no running application has the URL ${flags.app}\n`);
      process.exitCode = flags.app === undefined ? 0 : 1;
      return;
    }
    let isFailed = false;
    for (const { script, result } of recycled) {
      if (result.isServing) process.stdout.write(`recycled ${script}: generation ${result.generation} is serving\n`);
      else {
        isFailed = true;
        process.stdout.write(`recycle of ${script} failed: ${result.error ?? 'unknown error'}\n`);
      }
    }
    process.exitCode = isFailed ? 1 : 0;
  } catch (err) {
    if (!(err instanceof ControlUnreachableError)) throw err;
    process.stderr.write(`nodehost: ${err.message}\n`);
    process.exitCode = 1;
  }
}

async function status(siteArg: string | undefined): Promise<void> {
  const root = resolve(siteArg ?? '.');
  try {
    const reply = await controlRequest(root, { cmd: 'status' });
    process.stdout.write(`${JSON.stringify(reply.ok ? reply.result : reply, null, 2)}\n`);
    process.exitCode = reply.ok ? 0 : 1;
  } catch (err) {
    if (!(err instanceof ControlUnreachableError)) throw err;
    process.stderr.write(`nodehost: ${err.message}\n`);
    process.exitCode = 1;
  }
}

function check(siteArg: string | undefined, flags: { config?: string }): void {
  // nodehost.yml errors (global rules included) throw, naming file:line; the catch below prints them and exits 1.
  const file = flags.config ? loadHostConfig(resolve(flags.config)) : undefined;
  if (file !== undefined) process.stdout.write(`${resolve(flags.config!)}: ok (${file.globalRules?.length ?? 0} global rewrite rules)\n`);
  const roots = siteArg === undefined && file?.sites !== undefined ? file.sites.map((site) => site.root) : [resolve(siteArg ?? file?.root ?? '.')];
  let errors = 0;
  for (const root of roots) {
    const report = checkSite(root, process.env);
    process.stdout.write(formatCheckReport(report));
    errors += report.errors.length;
  }
  process.exitCode = errors > 0 ? 1 : 0;
}

// Usage errors surface as CommanderError (below) instead of commander's own exit, so they exit 2.
const program = new Command('nodehost').exitOverride().description('Host Node.js applications and static sites the way iisnode did on IIS.').version(version);

program
  .command('serve')
  .description('serve a site folder (web.config, iisnode.yml, node apps, static files)')
  .argument('[siteRoot]', 'site folder (default: the current folder, or root in --config)')
  .option('--port <port>', 'TCP port to listen on (default 8080; 0 picks a free one)', parsePort)
  .option('--host <host>', 'address to bind (default 127.0.0.1)')
  .option('--config <file>', 'host configuration file (nodehost.yml)')
  .option(
    '--host-processes <n|auto>',
    'front-door processes sharing the port (default 1, or hostProcesses in --config; auto: one per CPU)',
    parseHostProcessesFlag,
  )
  .action(serve);

program
  .command('check')
  .description("validate every web.config and iisnode.yml of a site and print each application's effective settings")
  .argument('[siteRoot]', 'site folder (default: the current folder, or root in --config)')
  .option('--config <file>', 'also validate this host configuration file (nodehost.yml, its globalRules included)')
  .action(check);

program
  .command('recycle')
  .description('recycle the applications of a running server gracefully; returns when the new generation is serving')
  .argument('[siteRoot]', 'site folder the server serves (default: the current folder)')
  .option('--app <urlPath>', 'only the application whose entry script has this URL path, e.g. /hello.js')
  .action(recycle);

program
  .command('status')
  .description('print the applications, generations and workers of a running server (JSON)')
  .argument('[siteRoot]', 'site folder the server serves (default: the current folder)')
  .action(status);

registerLogsCommand(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) {
    // Commander has printed the message (or the help or version asked for).
    if (err.exitCode === 0) process.exit(0);
    process.stderr.write(`nodehost: ${new NodehostError('NH_ERR_CLI_USAGE', "see 'nodehost <command> --help'").toString()}\n`);
    process.exit(2);
  }
  if (err instanceof NodehostError) process.stderr.write(`nodehost: ${err.toString()}\n`);
  else process.stderr.write(`nodehost: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exit(1);
});
