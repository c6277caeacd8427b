/**
 * `nodehost logs [siteRoot] [--app path] [--follow]`: prints an application's worker output
 * from its log files, oldest file first (each file under a `==> name <==` heading when there
 * are several), and with --follow keeps printing what the workers write, new files included,
 * until interrupted. It reads the files only, so it works whether or not a server is running.
 * Without --app it shows every log folder found in the site.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import { SiteConfig } from '../config/site-config.js';
import { resolveLogDirectory } from '../log-files/log-directory.js';
import { listLogFiles, parseLogFileName } from '../log-files/log-names.js';

interface LogsFlags {
  app?: string;
  follow?: boolean;
}

/** How deep the site is searched for log folders when --app is not given. */
const SEARCH_DEPTH = 6;
const POLL_MS = 1000;

/** registerLogsCommand adds the `logs` command to the program. */
export function registerLogsCommand(program: Command): void {
  program
    .command('logs')
    .description("print an application's worker output (stdout and stderr) from its log files")
    .argument('[siteRoot]', 'site folder (default: the current folder)')
    .option('--app <path>', 'the application: its entry script or its folder, relative to the site root (default: every log folder of the site)')
    .option('--follow', 'keep printing output as the workers write it (Ctrl-C stops)')
    .addHelpText('after', '\nExample:\n  nodehost logs path/to/site --app hello.js --follow\n\nExit codes: 0 ok, 1 failure (no log files), 2 usage error.')
    .action(runLogs);
}

async function runLogs(siteArg: string | undefined, flags: LogsFlags): Promise<void> {
  const root = path.resolve(siteArg ?? '.');
  const folders = flags.app === undefined ? findLogFolders(root) : [appLogFolder(root, flags.app)];
  if (folders.length === 0) {
    process.stderr.write(`nodehost: no log files under ${root}\n`);
    process.exitCode = 1;
    return;
  }
  const printer = new Printer(root);
  for (const dir of folders) {
    const files = (await listLogFiles(dir)).reverse();
    for (const file of files) await printer.print(path.join(dir, file.name), files.length > 1 || folders.length > 1);
  }
  if (!flags.follow) return;
  await follow(folders, printer);
}

/** appLogFolder is the log folder of the application at `app` (entry script or folder), from its effective settings. */
function appLogFolder(root: string, app: string): string {
  const target = path.resolve(root, app);
  let isFolder = false;
  try {
    isFolder = fs.statSync(target).isDirectory();
  } catch {
    // A script that does not exist (yet) still names its folder.
  }
  // For a folder, a script name inside it stands for "an application of this folder".
  const script = isFolder ? path.join(target, 'server.js') : target;
  const config = SiteConfig.load(root);
  const url = '/' + path.relative(root, script).split(path.sep).join('/');
  const { settings } = config.resolveAppSettings(script, config.forPath(url));
  return resolveLogDirectory(script, settings.logDirectory);
}

/** findLogFolders lists the folders of the site that hold worker log files (node_modules and dot folders skipped). */
function findLogFolders(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string, depth: number) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    if (entries.some((entry) => entry.isFile() && parseLogFileName(entry.name) !== undefined)) found.push(dir);
    if (depth >= SEARCH_DEPTH) return;
    for (const entry of entries) {
      if (entry.isDirectory() && entry.name !== 'node_modules' && !entry.name.startsWith('.')) walk(path.join(dir, entry.name), depth + 1);
    }
  };
  walk(root, 0);
  return found;
}

/** Printer copies files to stdout, remembering how far each was printed and heading each switch of file. */
class Printer {
  readonly #root: string;
  readonly offsets = new Map<string, number>();
  #last = '';

  constructor(root: string) {
    this.#root = root;
  }

  /** print writes the bytes of `file` not printed yet; resolves once stdout took them. */
  async print(file: string, isHeaded: boolean): Promise<void> {
    const start = this.offsets.get(file) ?? 0;
    let size: number;
    try {
      size = fs.statSync(file).size;
    } catch {
      this.offsets.delete(file);
      return;
    }
    if (size < start) this.offsets.set(file, 0);
    if (size <= start) return;
    if (isHeaded && this.#last !== file) await write(`${this.#last === '' ? '' : '\n'}==> ${path.relative(this.#root, file)} <==\n`);
    this.#last = file;
    const stream = fs.createReadStream(file, { start, end: size - 1 });
    for await (const chunk of stream) await write(chunk as Buffer);
    this.offsets.set(file, size);
  }
}

function write(data: string | Buffer): Promise<void> {
  return new Promise((resolve) => {
    if (process.stdout.write(data)) resolve();
    else process.stdout.once('drain', resolve);
  });
}

/** follow prints new output of the folders until SIGINT/SIGTERM: inotify events, with a slow poll as a safety net. */
async function follow(folders: string[], printer: Printer): Promise<void> {
  let isBusy = false;
  let isAgain = false;
  const scan = async () => {
    if (isBusy) {
      isAgain = true;
      return;
    }
    isBusy = true;
    try {
      do {
        isAgain = false;
        for (const dir of folders) {
          const files = (await listLogFiles(dir)).reverse();
          for (const file of files) await printer.print(path.join(dir, file.name), true);
        }
      } while (isAgain);
    } finally {
      isBusy = false;
    }
  };
  const watchers: fs.FSWatcher[] = [];
  for (const dir of folders) {
    try {
      watchers.push(fs.watch(dir, () => void scan()));
    } catch {
      // Missing folder: the poll picks it up once it exists.
    }
  }
  const poll = setInterval(() => void scan(), POLL_MS);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  clearInterval(poll);
  for (const watcher of watchers) watcher.close();
}
