import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** BENCH_DIR is this folder; REPO_ROOT is the nodehost checkout it belongs to. */
export const BENCH_DIR = dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = dirname(BENCH_DIR);

/**
 * Scenario is one app and one URL to load, served the same way by every front. Its site
 * folder is a template under `bench/sites/<template>` that `writeSite` copies into a temp
 * folder at run time, filling in `{{name}}` placeholders.
 */
export interface Scenario {
  readonly id: string;
  readonly description: string;
  /** template is the folder under bench/sites holding `web.config` and the app. */
  readonly template: string;
  /** files lists the template files to copy. */
  readonly files: readonly string[];
  /** script is the app's entry script (what `node <script>` runs when there is no host). */
  readonly script: string;
  /** urlPath is the request target the load generator sends. */
  readonly urlPath: string;
  /** expectBody is the exact response body; readiness probes check it. */
  readonly expectBody: string;
}

/** scenarios is the table of what can be measured; `--scenarios` picks from it by id. */
export const scenarios: readonly Scenario[] = [
  {
    id: 'hello',
    description: 'hello world, 13-byte body, keep-alive GET',
    template: 'hello',
    files: ['web.config', 'hello.js'],
    script: 'hello.js',
    urlPath: '/hello.js',
    expectBody: 'Hello, world!',
  },
];

/**
 * writeSite writes the scenario's site into `dir` with the placeholders in `vars` filled in,
 * and returns `dir`. It fails if a placeholder is left unfilled, so a template change cannot
 * silently benchmark a broken web.config.
 */
export async function writeSite(scenario: Scenario, dir: string, vars: Record<string, string | number>): Promise<string> {
  await mkdir(dir, { recursive: true });
  for (const file of scenario.files) {
    const text = await readFile(join(BENCH_DIR, 'sites', scenario.template, file), 'utf8');
    const filled = text.replace(/\{\{(\w+)\}\}/g, (whole, name: string) => {
      if (!(name in vars)) throw new Error(`bench/sites/${scenario.template}/${file}: no value for ${whole}`);
      return String(vars[name]);
    });
    await writeFile(join(dir, file), filled);
  }
  // The apps are CommonJS; without this, a package.json with "type": "module" somewhere
  // above the temp folder would make node load them as ES modules and fail.
  await writeFile(join(dir, 'package.json'), '{ "private": true, "type": "commonjs" }\n');
  return dir;
}
