/**
 * The showcase for tests: a private copy of examples/ (the site writes its deployment file,
 * logs and access logs into it), with the repository's node_modules linked beside it so that
 * its apps find express and socket.io as they do in the repository.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));
const NODE_MODULES = fileURLToPath(new URL('../../node_modules/', import.meta.url));

/** ShowcaseCopy is a copied examples/ folder; `config` is its showcase-host/nodehost.yml. */
export interface ShowcaseCopy {
  readonly dir: string;
  readonly config: string;
  readonly site: string;
  remove(): void;
}

/** copyShowcase copies examples/ into a new temporary folder (without logs or deployments left in the original). */
export function copyShowcase(): ShowcaseCopy {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nh-showcase-'));
  // What running the showcase writes: access logs, worker log folders, the deploy demo's file.
  const written = [path.join(EXAMPLES, 'logs'), path.join(EXAMPLES, 'showcase', 'deploy', 'deployed.txt')];
  fs.cpSync(EXAMPLES, path.join(dir, 'examples'), {
    recursive: true,
    filter: (source) => !written.includes(path.resolve(source)) && path.basename(source) !== 'iisnode',
  });
  fs.symlinkSync(NODE_MODULES, path.join(dir, 'node_modules'));
  return {
    dir,
    config: path.join(dir, 'examples', 'showcase-host', 'nodehost.yml'),
    site: path.join(dir, 'examples', 'showcase'),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}
