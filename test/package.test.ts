// The published package as a new user gets it: `npm pack`, then `npm install <tarball>` into an
// empty folder and `npx nodehost serve`, with nothing of the git clone (no TypeScript, no tsx),
// and `npm install -g <tarball>` putting a `nodehost` command on the PATH.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, test } from 'node:test';
import { finished } from 'node:stream/promises';
import { promisify } from 'node:util';
import { startNodehost } from './helpers/nodehost.js';
import { fetchStrict } from './helpers/strict-http.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** What the tarball may hold, as path prefixes below `package/`. */
const SHIPPED = ['dist/', 'bin/', 'docs/', 'README.md', 'package.json', 'LICENSE'];

describe('the npm package', () => {
  const work = mkdtempSync(join(tmpdir(), 'nodehost-package-'));
  let files: string[] = [];
  let tarball = '';

  before(async () => {
    // `npm test` has just built dist/ (pretest), so the scripts are skipped: packing stays fast.
    const { stdout } = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], { cwd: ROOT });
    const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
    files = packed!.files.map((file) => file.path);
    tarball = join(work, packed!.filename);
  });

  after(() => rmSync(work, { recursive: true, force: true }));

  test('ships the compiled program, bin/, the docs, the run-time assets (the dashboard included) and the licence, and nothing else', () => {
    const strays = files.filter((file) => !SHIPPED.some((prefix) => file.startsWith(prefix)));
    assert.deepEqual(strays, []);
    assert.deepEqual(
      files.filter((file) => file.endsWith('.ts') || file.endsWith('.map')),
      [],
    );
    for (const needed of [
      'bin/nodehost',
      'dist/cli/main.js',
      'dist/iisnode/log-files/uncaught-preload.cjs',
      // The dashboard is served from these files as they are (no build step for the user).
      'dist/control/dashboard/index.html',
      'dist/control/dashboard/dashboard.css',
      'dist/control/dashboard/dashboard.js',
      'docs/getting-started.md',
      'LICENSE',
    ]) {
      assert.ok(files.includes(needed), `${needed} is in the package`);
    }
  });

  test('installs from the tarball into an empty folder and serves a site with npx nodehost serve', async () => {
    const project = join(work, 'project');
    mkdirSync(project);
    writeFileSync(join(project, 'package.json'), '{"name":"adopter","private":true}\n');
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', tarball], { cwd: project });
    // Only the run-time dependencies came along.
    assert.equal(existsSync(join(project, 'node_modules', 'typescript')), false);
    assert.equal(existsSync(join(project, 'node_modules', 'tsx')), false);

    const site = join(project, 'site');
    mkdirSync(site);
    writeFileSync(join(site, 'index.html'), '<h1>installed</h1>\n');
    writeFileSync(join(site, 'app.js'), "require('http').createServer((req, res) => res.end('app ' + req.url)).listen(process.env.PORT);\n");
    writeFileSync(
      join(site, 'web.config'),
      '<configuration><system.webServer><handlers><add name="iisnode" path="app.js" verb="*" modules="iisnode"/></handlers></system.webServer></configuration>\n',
    );
    const host = await startNodehost('site', { command: ['npx', '--no', 'nodehost'], cwd: project });
    try {
      const page = await fetchStrict(host.url, '/');
      assert.equal(page.status, 200);
      assert.equal(page.text, '<h1>installed</h1>\n');
      const app = await fetchStrict(host.url, '/app.js/hello');
      assert.equal(app.status, 200);
      assert.equal(app.text, 'app /app.js/hello');
    } finally {
      // npx runs nodehost through `sh -c`, which does not pass SIGTERM on: nodehost is stopped
      // by its own pid (from its `host started` line), as systemd would, and its end is the end
      // of the stderr pipe it shares with npx.
      const pid = Number(/"msg":"host started","pid":(\d+)/.exec(host.stderr())?.[1]);
      if (pid > 0) {
        process.kill(pid, 'SIGTERM');
        await finished(host.child.stderr!);
      }
      await host.stop();
    }
    assert.match(host.stderr(), /host stopped/);
  });

  test('installs globally from the tarball (npm install -g, into a private prefix) and runs as a command on the PATH', async () => {
    const prefix = join(work, 'global');
    await run('npm', ['install', '-g', '--prefix', prefix, '--prefer-offline', '--no-audit', '--no-fund', tarball]);
    const bin = join(prefix, 'bin', 'nodehost');
    assert.ok(existsSync(bin), 'npm linked bin/nodehost into the prefix');
    const { stdout } = await run('nodehost', ['--version'], { env: { ...process.env, PATH: `${join(prefix, 'bin')}:${process.env.PATH}` } });
    const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    assert.equal(stdout.trim(), version);
  });
});
