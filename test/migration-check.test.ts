// `nodehost check --migration` on a site as it ran on IIS: each thing that changes on Linux is
// listed with its file and line, and the case mismatch it reports really misses when served.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { BIN, SITES, startNodehost } from './helpers/nodehost.js';
import { fetchStrict } from './helpers/strict-http.js';

const run = promisify(execFile);
const SITE = join(SITES, 'migration');
const CONFIG = join(SITE, 'web.config');

/** The lines of one section of the report (`<title>: N` and the findings below it). */
function section(report: string, title: string): string[] {
  const lines = report.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`${title}: `));
  assert.ok(start >= 0, `the report has a '${title}' section`);
  const end = lines.findIndex((line, index) => index > start && !line.startsWith('  '));
  return lines.slice(start, end);
}

describe('nodehost check --migration', () => {
  test('lists ignored settings, Windows paths, case mismatches, IIS-only MIME types and duplicates, per file and line', async () => {
    const { stdout } = await run(process.execPath, [BIN, 'check', SITE, '--migration']);
    assert.match(stdout, new RegExp(`^Migration check of ${SITE}\n`));
    assert.deepEqual(section(stdout, 'ignored on Linux'), [
      'ignored on Linux: 4',
      `  ${CONFIG}:12: iisnode asyncCompletionThreadCount has no effect on Linux (accepted and validated only)`,
      `  ${CONFIG}:12: iisnode idlePageOutTimePeriod has no effect on Linux (accepted and validated only)`,
      `  ${CONFIG}:4: <system.web> is skipped: nodehost does not implement it (ASP.NET settings)`,
      `  ${CONFIG}:8: <webSocket> is skipped: nodehost does not implement it (WebSocket upgrades always go through to node)`,
    ]);
    const windows = section(stdout, 'Windows paths');
    assert.equal(windows[0], 'Windows paths: 3');
    assert.match(
      windows[1]!,
      /iisnode\.yml:1: iisnode nodeProcessCommandLine '"D:\\Program Files \(x86\)\\nodejs\\8\.9\.4\\node\.exe"' is a Windows path: nodehost runs the node that runs it instead/,
    );
    assert.equal(
      windows[2],
      `  ${CONFIG}:30: condition input '{APPL_PHYSICAL_PATH}public\\about.html' builds a path with backslashes: Linux paths use '/', so file checks on it never match`,
    );
    assert.equal(windows[3], `  ${CONFIG}:32: <action> names 'public\\about.html' with backslashes: URLs and Linux paths use '/'`);
    const cases = section(stdout, 'names whose case differs from the file on disk');
    assert.equal(cases[0], 'names whose case differs from the file on disk: 4');
    assert.match(cases[1]!, /web\.config:12: watchedFiles entry 'Lib\\\*\.js' names Lib, but the disk has lib: changes there do not recycle/);
    assert.match(cases[2]!, /web\.config:10: <add> names 'Server\.js', but the file on disk is 'server\.js'/);
    assert.match(cases[3]!, /web\.config:15: <add> names 'Home\.htm', but the file on disk is 'home\.htm'/);
    assert.match(cases[4]!, /web\.config:25: <action> names 'Public\/Index\.html', but the file on disk is 'public\/index\.html'/);
    const mime = section(stdout, 'MIME types IIS served and nodehost does not');
    assert.deepEqual(mime.length, 2);
    assert.match(mime[1]!, /1 \.ts file \(\/media\/clip\.ts\): IIS served them as video\/vnd\.dlna\.mpeg-tts, nodehost answers 404\.3/);
    const duplicates = section(stdout, 'duplicate entries IIS would refuse');
    assert.match(duplicates[1]!, /web\.config:19: mimeMap fileExtension '\.json' is already in the built-in list/);
    assert.match(stdout, /13 thing\(s\) to look at before the move\nconfiguration: OK\n$/);
  });

  test('a site with nothing Windows-specific says so', async () => {
    const { stdout } = await run(process.execPath, [BIN, 'check', join(SITES, 'script-app'), '--migration']);
    assert.match(stdout, /nothing to change for Linux\nconfiguration: OK\n$/);
  });

  test('the case mismatch it reports is a miss when the site is served', async () => {
    const host = await startNodehost(SITE);
    try {
      // The rule rewrites / to Public/Index.html: IIS served public/index.html, Linux has no such file.
      assert.equal((await fetchStrict(host.url, '/')).status, 404);
      assert.equal((await fetchStrict(host.url, '/public/index.html')).text, '<h1>home</h1>\n');
    } finally {
      assert.equal(await host.stop(), 0);
    }
  });
});
