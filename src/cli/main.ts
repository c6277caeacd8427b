/**
 * The `nodehost` command: `serve` runs a site, `check` validates its configuration, and the
 * other commands are clients of a running server or edit its files. bin/nodehost calls `run`;
 * `program` is exported so that a test can list every command.
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { resolve } from 'node:path';
import { loadHostConfig, parseHostProcesses, type HostConfig } from '../config/host-config.js';
import { checkSite, formatCheckReport } from '../config/check.js';
import { NodehostError } from '../errors.js';
import { HostLog, LOG_LEVELS, parseLogLevel, type LogLevel } from '../host-log.js';
import { NodehostServer, type ServerOptions } from '../server/server.js';
import { isFrontDoorProcess, serveFrontDoors } from '../server/front-doors.js';
import { SystemdNotifier } from '../server/systemd-notify.js';
import { warnIfRoot } from '../server/privileges.js';
import { registerLogsCommand } from './logs-command.js';
import { serveOptions } from './serve-options.js';
import { registerUserCommand } from './user-command.js';
import { registerRewriteCommand } from './rewrite-command.js';
import { registerServiceCommand } from './service-command.js';
import { registerConfigCommand } from './config-command.js';
import { registerInitCommand } from './init-command.js';
import { isScriptPath, parseProcesses, scriptSite, siteRootOf } from './script-site.js';
import { checkAdminListener, ControlServer } from '../control/control-server.js';
import type { StatusApp } from './status-table.js';
import { controlPaths } from '../control/paths.js';
import { version } from '../version.js';
import { startUpTuning } from '../start-up-tuning.js';

function parsePort(value: string): number {
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return port;
}

function parseLogLevelFlag(value: string): LogLevel {
  const level = parseLogLevel(value);
  if (level === undefined) throw new InvalidArgumentError(`must be one of ${LOG_LEVELS.join(', ')}`);
  return level;
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
  logLevel?: LogLevel;
  metrics?: boolean;
  processes?: number;
}

/** warnRestartOnly logs the host-wide settings a re-read nodehost.yml changed that only a restart applies. */
function warnRestartOnly(running: HostConfig, next: HostConfig, log: HostLog): void {
  for (const key of ['hostProcesses', 'admin', 'user', 'group', 'limits'] as const) {
    if (JSON.stringify(running[key]) !== JSON.stringify(next[key])) log.warn('host config: this setting applies at the next restart', { setting: key });
  }
}

async function serve(siteArg: string | undefined, flags: ServeFlags): Promise<void> {
  const log = new HostLog(undefined, flags.logLevel === undefined ? {} : { level: flags.logLevel });
  const file: HostConfig = flags.config ? loadHostConfig(resolve(flags.config)) : { root: undefined, name: undefined, host: undefined, port: undefined };
  const isScript = siteArg !== undefined && isScriptPath(siteArg);
  if (flags.processes !== undefined && !isScript) {
    throw new NodehostError(
      'NH_ERR_CLI_USAGE',
      '--processes needs a script (nodehost serve app.js -i 4); a folder sets nodeProcessCountPerApplication in its web.config',
    );
  }
  const script = isScript ? scriptSite(siteArg, flags.processes) : undefined;
  const args = { siteArg, config: flags.config, port: flags.port, host: flags.host, metrics: flags.metrics, script };
  const configFile = flags.config === undefined ? undefined : resolve(flags.config);
  // Read (and removed from the environment, so front doors and workers do not inherit it) before
  // anything starts; a front door has none: its primary speaks to systemd.
  const notifier = isFrontDoorProcess() ? undefined : new SystemdNotifier(log);
  const options: ServerOptions = {
    ...serveOptions(file, args, log),
    notifier,
    ...(configFile === undefined
      ? {}
      : {
          hostConfigFile: configFile,
          reread: () => {
            const next = loadHostConfig(configFile);
            warnRestartOnly(file, next, log);
            return serveOptions(next, args, log);
          },
        }),
  };
  const listen = file.admin?.listen;
  const admin = listen === undefined ? undefined : { host: listen.host, port: listen.port, token: file.admin?.token };
  // Refused before anything starts: an admin API reachable off this machine needs a token.
  if (admin !== undefined) checkAdminListener(admin);
  const hostProcesses = flags.hostProcesses ?? file.hostProcesses ?? 1;
  if (hostProcesses > 1 && file.acme !== undefined)
    throw new NodehostError('NH_ERR_CLI_USAGE', `${flags.config} has a site with 'tls: { acme: true }': automatic certificates need one host process`);
  if (!isFrontDoorProcess()) warnIfRoot({ user: file.user }, log);
  if (hostProcesses > 1 || isFrontDoorProcess()) {
    await serveFrontDoors(
      hostProcesses,
      options,
      (url, root) => `nodehost ${version} listening on ${url} (site ${root}, ${hostProcesses} host processes)`,
      admin,
    );
    return;
  }
  const server = new NodehostServer(options);
  const url = await server.start();
  await server.preload();
  process.stdout.write(`nodehost ${version} listening on ${url} (site ${server.site.root})\n`);
  for (const other of server.urls.slice(1)) process.stdout.write(`also listening on ${other}\n`);
  log.info('host started', { pid: process.pid, version, node: process.version, site: server.site.root, url, logLevel: log.level });
  // The admin API (DESIGN §5, docs/admin.md): `nodehost recycle|status` find it through the pid file.
  const control = new ControlServer(controlPaths(server.site.root), server, admin);
  try {
    await control.start(server.site.root, url);
    process.stdout.write(`control socket ${control.paths.socketPath} (pid file ${control.paths.pidFile})\n`);
  } catch (err) {
    log.warn('control socket unavailable', { path: control.paths.socketPath, err });
  }
  try {
    await control.startAdminListener();
    if (control.adminUrl !== '') process.stdout.write(`admin listener ${control.adminUrl}\n`);
  } catch (err) {
    control.close();
    await server.close();
    throw err;
  }
  void notifier?.ready(`listening on ${url}`);
  startUpTuning.end({ compactHeap: true });
  let signalled = false;
  const stop = (signal: string) => {
    if (signalled) return;
    signalled = true;
    log.info('shutting down', { signal });
    const isNotified = notifier?.stopping(`stopping (${signal})`);
    // The admin API stays up while requests drain: /ready answers 503 meanwhile.
    // The exit waits for the STOPPING=1 message too (it never rejects).
    Promise.all([server.close(), isNotified]).then(
      () => {
        control.close();
        log.info('host stopped', { pid: process.pid, signal, code: 0 });
        process.exit(0);
      },
      (err) => {
        log.error('shutdown failed', { err });
        process.exit(1);
      },
    );
  };
  // SIGHUP re-reads nodehost.yml and the web.config files (systemd's ExecReload): a broken
  // result keeps the running configuration serving, and the errors are logged.
  process.on('SIGHUP', () => {
    if (signalled) return;
    log.info('config reload requested', { signal: 'SIGHUP' });
    void server.reload();
  });
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

/**
 * controlClient is the admin API client of the commands that talk to a running server, loaded
 * by them: `serve` never needs it.
 */
function controlClient(): Promise<typeof import('../control/control-client.js')> {
  return import('../control/control-client.js');
}

async function recycle(siteArg: string | undefined, flags: RecycleFlags): Promise<void> {
  const root = siteRootOf(siteArg);
  const { adminRequest, ControlUnreachableError, errorMessage } = await controlClient();
  try {
    const reply = await adminRequest(root, 'POST', `/v1/apps/recycle${flags.app === undefined ? '' : `?app=${encodeURIComponent(flags.app)}`}`);
    if (reply.status === 404 && flags.app !== undefined) {
      process.stdout.write(`no running application has the URL ${flags.app}\n`);
      process.exitCode = 1;
      return;
    }
    if (reply.status !== 200 && reply.status !== 500) throw new ControlUnreachableError(errorMessage(reply.body) || `the server answered ${reply.status}`);
    const recycled = (reply.body as { recycled?: (RecycledApp['result'] & { script: string })[] }).recycled;
    if (recycled === undefined) throw new ControlUnreachableError(errorMessage(reply.body) || `the server answered ${reply.status}`);
    if (recycled.length === 0) {
      process.stdout.write('no application is running\n');
      process.exitCode = 0;
      return;
    }
    let isFailed = false;
    for (const { script, ...result } of recycled) {
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

/** stopApps stops the applications of a running server (one with --app); the server keeps listening and a request starts them again. */
async function stopApps(siteArg: string | undefined, flags: RecycleFlags): Promise<void> {
  await adminAct(siteArg, `/v1/apps/stop${flags.app === undefined ? '' : `?app=${encodeURIComponent(flags.app)}`}`, (body) => {
    const stopped = (body as { stopped: string[] }).stopped;
    return stopped.length === 0 ? 'no application is running\n' : stopped.map((script) => `stopped ${script}\n`).join('');
  });
}

/** startApp starts an application's workers without waiting for a request (as preload="true" does). */
async function startApp(siteArg: string | undefined, flags: { app: string }): Promise<void> {
  await adminAct(siteArg, `/v1/apps/start?app=${encodeURIComponent(flags.app)}`, (body) => `started ${(body as { started: string }).started}\n`);
}

/** adminAct sends one POST to the server's admin API and prints its outcome; exit 1 on an error answer or no server. */
async function adminAct(siteArg: string | undefined, path: string, describe: (body: unknown) => string): Promise<void> {
  const { adminRequest, ControlUnreachableError, errorMessage } = await controlClient();
  try {
    const reply = await adminRequest(resolve(siteArg ?? '.'), 'POST', path);
    if (reply.status !== 200) {
      process.stderr.write(`nodehost: ${errorMessage(reply.body) || `the server answered ${reply.status}`}\n`);
      process.exitCode = 1;
      return;
    }
    process.stdout.write(describe(reply.body));
    process.exitCode = 0;
  } catch (err) {
    if (!(err instanceof ControlUnreachableError)) throw err;
    process.stderr.write(`nodehost: ${err.message}\n`);
    process.exitCode = 1;
  }
}

interface StatusFlags {
  json?: boolean;
  watch?: boolean;
  interval?: number;
  count?: number;
}

/** How often `status --watch` refreshes by default, and how many times at most (bounded: about an hour). */
const WATCH_INTERVAL_MS = 2000;
const WATCH_MAX_REFRESHES = 1800;

async function status(siteArg: string | undefined, flags: StatusFlags): Promise<void> {
  const root = siteRootOf(siteArg);
  const [{ adminRequest, ControlUnreachableError, errorMessage }, { formatStatusTable }] = await Promise.all([controlClient(), import('./status-table.js')]);
  const useColour = process.stdout.isTTY === true && process.env.NO_COLOR === undefined;
  const once = async (): Promise<boolean> => {
    const [server, apps, sites] = await Promise.all([
      adminRequest(root, 'GET', '/v1/server'),
      adminRequest(root, 'GET', '/v1/apps'),
      adminRequest(root, 'GET', '/v1/sites'),
    ]);
    if (server.status !== 200 || apps.status !== 200) {
      process.stderr.write(`nodehost: ${errorMessage(server.status !== 200 ? server.body : apps.body)}\n`);
      return false;
    }
    const info = server.body as { version: string; pid: number; uptimeMs: number; hostProcesses: unknown[] };
    const list = (apps.body as { apps: StatusApp[] }).apps;
    if (flags.json === true) {
      const site = ((sites.body as { sites?: { name: string; root: string; configError: string }[] }).sites ?? [])[0];
      const { hostProcesses, ...rest } = info;
      const json = {
        ...rest,
        site: site?.name ?? '',
        root: site?.root ?? '',
        configError: site?.configError ?? '',
        hostProcesses: hostProcesses.length,
        frontDoors: hostProcesses,
        apps: list,
      };
      process.stdout.write(`${JSON.stringify(json, null, 2)}\n`);
      return true;
    }
    const head = `nodehost ${info.version}, pid ${info.pid}, up ${Math.floor(info.uptimeMs / 1000)}s, ${info.hostProcesses.length} host process${info.hostProcesses.length === 1 ? '' : 'es'}\n`;
    // In place: clear the screen and go home before each refresh (a TTY only).
    const clear = flags.watch === true && process.stdout.isTTY === true ? '\u001b[H\u001b[2J' : '';
    process.stdout.write(clear + head + formatStatusTable(list, useColour));
    return true;
  };
  try {
    if (flags.watch !== true) {
      process.exitCode = (await once()) ? 0 : 1;
      return;
    }
    const interval = flags.interval ?? WATCH_INTERVAL_MS;
    const count = Math.min(flags.count ?? WATCH_MAX_REFRESHES, WATCH_MAX_REFRESHES);
    process.on('SIGINT', () => process.exit(0));
    for (let i = 0; i < count; i++) {
      if (!(await once())) {
        process.exitCode = 1;
        return;
      }
      if (i + 1 < count) await new Promise((done) => setTimeout(done, interval));
    }
    process.exitCode = 0;
  } catch (err) {
    if (!(err instanceof ControlUnreachableError)) throw err;
    process.stderr.write(`nodehost: ${err.message}\n`);
    process.exitCode = 1;
  }
}

function parsePositive(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a positive integer');
  return Number(value);
}

async function check(siteArg: string | undefined, flags: { config?: string; migration?: boolean }): Promise<void> {
  // nodehost.yml errors (global rules and compression included) throw, naming file:line; the catch below prints them and exits 1.
  const file = flags.config ? loadHostConfig(resolve(flags.config)) : undefined;
  if (file !== undefined) {
    const compression = file.compression === undefined ? '' : ', host compression defaults';
    process.stdout.write(`${resolve(flags.config!)}: ok (${file.globalRules?.length ?? 0} global rewrite rules${compression})\n`);
  }
  const roots = siteArg === undefined && file?.sites !== undefined ? file.sites.map((site) => site.root) : [resolve(siteArg ?? file?.root ?? '.')];
  if (flags.migration === true) {
    const { checkMigration, formatMigrationReport } = await import('../config/migration-check.js');
    let errors = 0;
    for (const root of roots) {
      const migration = checkMigration(root, process.env, { compression: file?.compression });
      process.stdout.write(formatMigrationReport(migration));
      errors += migration.errors;
    }
    process.stdout.write(errors === 0 ? 'configuration: OK\n' : `configuration: ${errors} error(s), see 'nodehost check'\n`);
    process.exitCode = errors > 0 ? 1 : 0;
    return;
  }
  let errors = 0;
  for (const root of roots) {
    const report = checkSite(root, process.env, { compression: file?.compression });
    process.stdout.write(formatCheckReport(report));
    errors += report.errors.length;
  }
  process.exitCode = errors > 0 ? 1 : 0;
}

// Usage errors surface as CommanderError (see run) instead of commander's own exit, so they exit 2.
/** program is the command line: every command and its options, built without running anything. */
export const program = new Command('nodehost')
  .exitOverride()
  .description('Host Node.js applications and static sites the way iisnode did on IIS.')
  .version(version)
  // serve ends the start-up tuning once it is ready; the other commands are clients, they end it now.
  .hook('preAction', (_program, command) => {
    if (command.name() !== 'serve') startUpTuning.end();
  });

program
  .command('serve')
  .description('serve a site folder (web.config, iisnode.yml, node apps, static files), or one node script')
  .argument(
    '[siteRoot]',
    'site folder (default: the current folder, or root in --config), or a script such as app.js: its folder is served with files under public/ as they are and every other URL to the script',
  )
  .option('--port <port>', 'TCP port to listen on (default 8080; 0 picks a free one)', parsePort)
  .option('--host <host>', 'address to bind (default 127.0.0.1)')
  .option('--config <file>', 'host configuration file (nodehost.yml)')
  .option(
    '--host-processes <n|auto>',
    'front-door processes sharing the port (default 1, or hostProcesses in --config; auto: one per CPU)',
    parseHostProcessesFlag,
  )
  .option(
    '--log-level <level>',
    `host event log threshold on stderr: ${LOG_LEVELS.join('|')} (default info, debug when NODEHOST_DEBUG is set)`,
    parseLogLevelFlag,
  )
  .option('--no-metrics', 'do not count requests for /metrics (admin.metrics: false in --config)')
  .option(
    '-i, --processes <n|max>',
    'worker processes of a script given instead of a folder, as pm2 start -i (default 1; 0 or max: one per CPU)',
    parseProcesses,
  )
  .addHelpText(
    'after',
    `
Examples:
  nodehost serve examples/showcase --port 8080
  nodehost serve app.js -i 4
  nodehost serve --config /etc/nodehost/nodehost.yml --log-level warn

Exit codes: 0 stopped cleanly, 1 failure, 2 usage error (NH_ERR_CLI_USAGE).`,
  )
  .action(serve);

program
  .command('check')
  .description("validate every web.config and iisnode.yml of a site and print each application's effective settings")
  .argument('[siteRoot]', 'site folder (default: the current folder, or root in --config)')
  .option('--config <file>', 'also validate this host configuration file (nodehost.yml, its globalRules and compression included)')
  .option('--migration', 'list what changes coming from IIS on Windows: ignored settings, Windows paths, file name case, MIME types, duplicates')
  .addHelpText(
    'after',
    '\nExamples:\n  nodehost check examples/showcase --config nodehost.yml\n  nodehost check /srv/site --migration\n\nExit codes: 0 valid (--migration findings do not fail it), 1 errors found, 2 usage error.',
  )
  .action(check);

program
  .command('recycle')
  .description('recycle the applications of a running server gracefully; returns when the new generation is serving')
  .argument('[siteRoot]', 'site folder the server serves, or the script given to serve (default: the current folder)')
  .option('--app <urlPath>', 'only the application whose entry script has this URL path, e.g. /hello.js')
  .addHelpText(
    'after',
    '\nExample:\n  nodehost recycle examples/showcase --app /hello.js\n\nExit codes: 0 every new generation serves, 1 a recycle failed or no server runs, 2 usage error.',
  )
  .action(recycle);

program
  .command('stop')
  .description('stop the applications of a running server (their workers drain and exit); the server keeps listening and the next request starts them again')
  .argument('[siteRoot]', 'site folder the server serves (default: the current folder)')
  .option('--app <urlPath>', 'only the application whose entry script has this URL path, e.g. /hello.js')
  .addHelpText(
    'after',
    '\nExample:\n  nodehost stop examples/showcase --app /hello.js\n\nExit codes: 0 stopped, 1 no such application or no server runs, 2 usage error.',
  )
  .action(stopApps);

program
  .command('start')
  .description("start an application's workers now, without waiting for its first request")
  .argument('[siteRoot]', 'site folder the server serves (default: the current folder)')
  .requiredOption('--app <urlPath>', 'the URL path of the entry script, e.g. /hello.js')
  .addHelpText(
    'after',
    '\nExample:\n  nodehost start examples/showcase --app /hello.js\n\nExit codes: 0 its workers were started (they become ready on their own), 1 it could not start or no server runs, 2 usage error.',
  )
  .action(startApp);

program
  .command('status')
  .description('print the applications, generations and worker processes of a running server')
  .argument('[siteRoot]', 'site folder the server serves, or the script given to serve (default: the current folder)')
  .option('--json', 'print {server, apps} as JSON (GET /v1/server and /v1/apps) for scripts')
  .option('--watch', 'refresh in place until Ctrl-C (at most 1800 refreshes)')
  .option('--interval <ms>', 'refresh interval of --watch (default 2000)', parsePositive)
  .option('--count <n>', 'stop --watch after n refreshes', parsePositive)
  .addHelpText(
    'after',
    '\nExamples:\n  nodehost status examples/showcase\n  nodehost status examples/showcase --json | jq .apps[0].processes\n  nodehost status --watch\n\nColumns: GEN generation, REQS requests served, RST restarts/last exit code.\nExit codes: 0 ok, 1 no server runs or it failed to answer, 2 usage error.',
  )
  .action(status);

registerLogsCommand(program);
registerUserCommand(program);
registerRewriteCommand(program);
registerServiceCommand(program);
registerConfigCommand(program);
registerInitCommand(program);

/** run parses `argv` and runs its command; exit 2 for a usage error, 1 for any other failure. */
export function run(argv: readonly string[]): void {
  program.parseAsync(argv).catch((err: unknown) => {
    if (err instanceof CommanderError) {
      // Commander has printed the message (or the help or version asked for).
      if (err.exitCode === 0) process.exit(0);
      process.stderr.write(`nodehost: ${new NodehostError('NH_ERR_CLI_USAGE', "see 'nodehost <command> --help'").toString()}\n`);
      process.exit(2);
    }
    if (err instanceof NodehostError) process.stderr.write(`nodehost: ${err.toString()}\n`);
    else process.stderr.write(`nodehost: ${(err as Error)?.stack ?? String(err)}\n`);
    process.exit(err instanceof NodehostError && err.code === 'NH_ERR_CLI_USAGE' ? 2 : 1);
  });
}
