/**
 * `nodehost service install [siteRoot] [--config F] [--user U] [--write]`: prints the systemd
 * unit that runs this nodehost (this node binary, this bin/nodehost) as a Type=notify service,
 * or with --write writes it to /etc/systemd/system/nodehost.service (or --path) and says what
 * to run next. The folders the host must write (the site root for worker log files, the access
 * log folder) are read from the configuration file and opened with ReadWritePaths.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { InvalidArgumentError, type Command } from 'commander';
import { loadHostConfig } from '../config/host-config.js';

/** The installed package's folder (dist/cli/ is two levels below it). */
const PACKAGE_ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEFAULT_UNIT_PATH = '/etc/systemd/system/nodehost.service';

interface InstallFlags {
  write?: boolean;
  user?: string;
  config?: string;
  path?: string;
}

function parseUser(value: string): string {
  // useradd's portable name set (and numeric ids), so the value cannot break the unit file.
  if (!/^[a-z_][a-z0-9_-]*\$?$/i.test(value) && !/^\d+$/.test(value)) throw new InvalidArgumentError('must be a user name or a numeric uid');
  return value;
}

/** registerServiceCommand adds `service install` to the program. */
export function registerServiceCommand(program: Command): void {
  const service = program.command('service').description('run nodehost as a systemd service (see: nodehost service install --help)');
  service
    .command('install')
    .description('print the systemd unit (Type=notify) that runs this nodehost, or write it with --write')
    .argument('[siteRoot]', 'site folder to serve (when there is no --config)')
    .option('--config <file>', 'host configuration file the service serves (nodehost.yml); its root and logs are made writable')
    .option('--user <name>', 'account the service runs as (default: root)', parseUser)
    .option('--write', `write the unit to ${DEFAULT_UNIT_PATH} (or --path) instead of printing it`)
    .option('--path <file>', `where --write writes the unit (default ${DEFAULT_UNIT_PATH})`)
    .addHelpText(
      'after',
      `
Examples:
  nodehost service install --config /etc/nodehost/nodehost.yml --user www-data
  sudo nodehost service install --config /etc/nodehost/nodehost.yml --user www-data --write
  sudo systemctl daemon-reload && sudo systemctl enable --now nodehost
  sudo systemctl reload nodehost    # SIGHUP: re-read nodehost.yml and the web.config files

Exit codes: 0 printed or written, 1 a configuration that cannot be read, a missing site folder or a unit that cannot be written, 2 usage error (no site folder or --config, a bad --user).`,
    )
    .action(install);
}

async function install(siteArg: string | undefined, flags: InstallFlags): Promise<void> {
  if (siteArg === undefined && flags.config === undefined) {
    process.stderr.write('nodehost: service install needs a site folder or --config <nodehost.yml>\n');
    process.exitCode = 2;
    return;
  }
  let serveArgs: string[];
  let root: string;
  let logs: string | undefined;
  let workingDirectory: string;
  if (flags.config !== undefined) {
    const file = path.resolve(flags.config);
    // A missing or broken file throws a NodehostError naming file:line (main prints it, exit 1).
    const config = loadHostConfig(file);
    root = config.root ?? path.resolve(siteArg ?? path.dirname(file));
    logs = config.logs;
    serveArgs = siteArg === undefined ? ['--config', file] : [path.resolve(siteArg), '--config', file];
    workingDirectory = path.dirname(file);
  } else {
    root = path.resolve(siteArg!);
    serveArgs = [root];
    workingDirectory = root;
  }
  if (!fs.existsSync(root)) {
    process.stderr.write(`nodehost: the site folder ${root} does not exist\n`);
    process.exitCode = 1;
    return;
  }
  // Access logs: <logs>/<site>/ when configured ('' turns them off), else <site root>/../logs/.
  const writablePaths = [root];
  if (logs !== '') writablePaths.push(logs ?? path.join(path.dirname(root), 'logs'));
  const { systemdUnit } = await import('./systemd-unit.js');
  const unit = systemdUnit({
    node: process.execPath,
    script: path.join(PACKAGE_ROOT, 'bin', 'nodehost'),
    serveArgs,
    user: flags.user,
    writablePaths,
    workingDirectory,
    documentation: pathToFileURL(path.join(PACKAGE_ROOT, 'docs', 'operations.md')).href,
  });
  if (!flags.write) {
    process.stdout.write(unit);
    return;
  }
  const target = path.resolve(flags.path ?? DEFAULT_UNIT_PATH);
  fs.writeFileSync(target, unit, { mode: 0o644 });
  process.stdout.write(`wrote ${target}\nnext: systemctl daemon-reload && systemctl enable --now ${path.basename(target)}\n`);
}
