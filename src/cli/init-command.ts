/**
 * `nodehost init [folder] [--script F] [--processes N] [--host-config] [--force]`: writes a
 * commented web.config for an existing node application folder (the one `nodehost serve app.js`
 * runs in memory), and with --host-config a commented nodehost.yml beside it. The entry script
 * is found the way npm finds it: package.json `main`, else the script `npm start` runs with
 * node, else server.js, app.js or index.js.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { appWebConfig } from '../config/app-web-config.js';
import { NodehostError } from '../errors.js';
import { parseProcesses } from './script-site.js';

interface InitFlags {
  script?: string;
  processes?: number;
  hostConfig?: boolean;
  force?: boolean;
}

/** The conventional entry scripts, in the order npm and Azure look for them. */
const CONVENTIONAL_SCRIPTS = ['server.js', 'app.js', 'index.js'];

/**
 * findEntryScript returns the entry script of an application folder (relative, `/`-separated)
 * and where it was found, or undefined when nothing names one.
 */
export function findEntryScript(folder: string): { script: string; from: string } | undefined {
  const pkg = readPackageJson(folder);
  const candidates: { script: string; from: string }[] = [];
  if (typeof pkg?.main === 'string') candidates.push({ script: pkg.main, from: 'package.json main' });
  // `node server.js`, `node --enable-source-maps dist/main.js`: the first argument that is not a flag.
  const start = typeof pkg?.scripts?.start === 'string' ? /^\s*node\s+(?:--?\S+\s+)*([^\s&|;]+)/.exec(pkg.scripts.start)?.[1] : undefined;
  if (start !== undefined) candidates.push({ script: start, from: 'package.json scripts.start' });
  for (const name of CONVENTIONAL_SCRIPTS) candidates.push({ script: name, from: 'the folder' });
  for (const candidate of candidates) {
    const script = path.posix.normalize(candidate.script.replaceAll('\\', '/')).replace(/^\.\//, '');
    // `main` may leave out the extension, as require() does.
    for (const name of [script, `${script}.js`]) {
      if (!name.startsWith('../') && isFile(path.join(folder, name))) return { script: name, from: candidate.from };
    }
  }
  return undefined;
}

function readPackageJson(folder: string): { main?: unknown; scripts?: { start?: unknown } } | undefined {
  try {
    return JSON.parse(fs.readFileSync(path.join(folder, 'package.json'), 'utf8')) as { main?: unknown; scripts?: { start?: unknown } };
  } catch {
    return undefined;
  }
}

function isFile(file: string): boolean {
  try {
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

/** givenScript checks init's --script: it must be a file of the folder. */
function givenScript(folder: string, script: string): { script: string; from: string } {
  const relative = script.replaceAll('\\', '/');
  if (!isFile(path.join(folder, relative))) throw new NodehostError('NH_ERR_CLI_USAGE', `--script ${script} is not a file in ${folder}`);
  return { script: relative, from: '--script' };
}

/** hostConfigTemplate is the commented nodehost.yml that --host-config writes. */
function hostConfigTemplate(): string {
  return `# nodehost host configuration: nodehost serve --config nodehost.yml
# Every key is optional; the reference is docs/host-config.md in the nodehost package.

# The site folder, relative to this file.
root: .
# Where nodehost listens. 127.0.0.1 keeps the site on this machine; 0.0.0.0 opens it.
host: 127.0.0.1
port: 8080
# Front-door processes sharing the port (auto: one per CPU).
# hostProcesses: 1
# Access logs (W3C format) go to <logs>/<site name>/; "" turns them off.
# logs: ../logs
# The admin API: /v1/..., /metrics, and /ready and /live for health checks.
# A token is required when it listens off loopback.
# admin:
#   listen: 127.0.0.1:9180
#   token: change-me
`;
}

/** registerInitCommand adds `init` to the program. */
export function registerInitCommand(program: Command): void {
  program
    .command('init')
    .description('write a commented web.config (and nodehost.yml) for an existing node application folder')
    .argument('[folder]', 'the application folder (default: the current folder)')
    .option('--script <file>', 'the entry script (default: package.json main or start, else server.js, app.js or index.js)')
    .option('-i, --processes <n|max>', 'worker processes (nodeProcessCountPerApplication; max: one per CPU)', parseProcesses)
    .option('--host-config', 'also write nodehost.yml (listener, logs, admin API)')
    .option('--force', 'replace files that exist')
    .addHelpText(
      'after',
      '\nExamples:\n  nodehost init\n  nodehost init ~/shop --script dist/main.js -i 2 --host-config\n\nExit codes: 0 written, 1 a file exists (--force replaces it), 2 usage error, no entry script found included (name it with --script).',
    )
    .action((folderArg: string | undefined, flags: InitFlags) => {
      const folder = path.resolve(folderArg ?? '.');
      const found = flags.script === undefined ? findEntryScript(folder) : givenScript(folder, flags.script);
      if (found === undefined) {
        throw new NodehostError(
          'NH_ERR_CLI_USAGE',
          `no entry script found in ${folder} (no package.json main or start, no ${CONVENTIONAL_SCRIPTS.join(', ')}): name it with --script`,
        );
      }
      const files: [string, string][] = [[path.join(folder, 'web.config'), appWebConfig({ script: found.script, processes: flags.processes })]];
      if (flags.hostConfig === true) files.push([path.join(folder, 'nodehost.yml'), hostConfigTemplate()]);
      const existing = files.filter(([file]) => fs.existsSync(file)).map(([file]) => file);
      if (existing.length > 0 && flags.force !== true) {
        process.stderr.write(
          `nodehost: ${existing.join(', ')} already exist${existing.length === 1 ? 's' : ''}; --force replaces ${existing.length === 1 ? 'it' : 'them'}\n`,
        );
        process.exitCode = 1;
        return;
      }
      for (const [file, text] of files) {
        fs.writeFileSync(file, text);
        process.stdout.write(`wrote ${file}\n`);
      }
      process.stdout.write(`entry script: ${found.script} (from ${found.from})\n`);
      const serve = flags.hostConfig === true ? `nodehost serve --config ${path.join(folder, 'nodehost.yml')}` : `nodehost serve ${folder}`;
      process.stdout.write(`next: ${serve}\n`);
    });
}
