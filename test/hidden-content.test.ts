/**
 * The two layers that keep a site's private files private, end to end (docs/security.md):
 * request filtering (hiddenSegments: IIS's defaults plus the site's <add>/<remove>, before URL
 * Rewrite, 404.8) and the static handler's own never-serve list (node_modules, web.config,
 * iisnode.yml, dot-files, after the rules, 404.0). Which layer answered a 404 shows in the
 * access log's sc-substatus, since the page says nothing about why.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { accessLogLine as readAccessLogLine } from './helpers/access-log.js';
import { startNodehost, type RunningHost } from './helpers/nodehost.js';
import { fetchStrict } from './helpers/strict-http.js';

const tmp = fs.mkdtempSync(path.join(tmpdir(), 'nodehost-hidden-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** writeSite writes the files of a site folder `<tmp>/<name>` and returns its path. */
function writeSite(name: string, files: Record<string, string>): string {
  const root = path.join(tmp, name);
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), content);
  }
  return root;
}

/** accessLogLine reads the access log line of a request to `stem` (the default log folder is `<site>/../logs/<site name>/`). */
function accessLogLine(site: string, stem: string, probe: string): Promise<Record<string, string>> {
  return readAccessLogLine(path.join(tmp, 'logs', site), stem, probe);
}

const KUDU_RULES = `
    <rewrite>
      <rules>
        <rule name="StaticContent">
          <action type="Rewrite" url="public{REQUEST_URI}"/>
        </rule>
        <rule name="DynamicContent">
          <conditions>
            <add input="{REQUEST_FILENAME}" matchType="IsFile" negate="True"/>
          </conditions>
          <action type="Rewrite" url="server.js"/>
        </rule>
      </rules>
    </rewrite>`;

function kuduConfig(hiddenSegments: string): string {
  return `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <system.webServer>
    <handlers>
      <add name="iisnode" path="server.js" verb="*" modules="iisnode"/>
    </handlers>${KUDU_RULES}
    <security><requestFiltering><hiddenSegments>${hiddenSegments}</hiddenSegments></requestFiltering></security>
    <iisnode loggingEnabled="false"/>
  </system.webServer>
</configuration>
`;
}

// The app counts the requests it saw, so a test can prove one never reached it.
const COUNTING_APP = `let count = 0;
require('http').createServer((req, res) => {
  count++;
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify({ count, url: req.url, originalUrl: req.headers['x-original-url'] || null }));
}).listen(process.env.PORT);
`;

const PRIVATE = 'module.exports = "package source";\n';

describe('a site without rules: the static handler never serves node_modules, web.config, iisnode.yml or dot-files', () => {
  let host: RunningHost;
  before(async () => {
    const root = writeSite('plain', {
      'web.config': `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <system.webServer>
    <staticContent><mimeMap fileExtension=".yml" mimeType="text/plain"/><mimeMap fileExtension=".env" mimeType="text/plain"/></staticContent>
    <security><requestFiltering>
      <hiddenSegments><remove segment="web.config"/></hiddenSegments>
      <fileExtensions><remove fileExtension=".config"/></fileExtensions>
    </requestFiltering></security>
  </system.webServer>
</configuration>
`,
      'index.html': '<p>home</p>\n',
      'node_modules/x.js': PRIVATE,
      'node_modules/pkg/index.html': PRIVATE,
      'lib/Node_Modules/y.js': PRIVATE,
      '.env': 'SECRET=1\n',
      '.git/config.txt': PRIVATE,
      'iisnode.yml': 'loggingEnabled: false\n',
      '.well-known/security.txt': 'Contact: mailto:security@example.test\n',
      // Rules in a folder that point at never-served files: the rules cannot unveil them either.
      'rules/web.config': `<?xml version="1.0" encoding="utf-8"?>
<configuration>
  <system.webServer>
    <rewrite><rules>
      <rule name="Packages" stopProcessing="true"><match url="^pkg/(.*)$"/><action type="Rewrite" url="/node_modules/{R:1}"/></rule>
      <rule name="Dot" stopProcessing="true"><match url="^env$"/><action type="Rewrite" url="/.env"/></rule>
      <rule name="Yml" stopProcessing="true"><match url="^yml$"/><action type="Rewrite" url="/iisnode.yml"/></rule>
      <rule name="Config" stopProcessing="true"><match url="^config$"/><action type="Rewrite" url="/web.config"/></rule>
    </rules></rewrite>
  </system.webServer>
</configuration>
`,
    });
    host = await startNodehost(root);
  });
  after(async () => {
    await host?.stop();
  });

  test('/node_modules/x.js is 404.0 from the static handler, not 404.8 from request filtering, and never the file', async () => {
    const reply = await fetchStrict(host.url, '/node_modules/x.js?probe=direct');
    assert.equal(reply.status, 404);
    assert.doesNotMatch(reply.text, /package source/);
    assert.equal(reply.headers.etag, undefined);
    const line = await accessLogLine('plain', '/node_modules/x.js', 'direct');
    assert.equal(line['sc-status'], '404');
    assert.equal(line['sc-substatus'], '0', 'the static handler answered: node_modules is not a hidden segment');
  });

  test('every never-served name, in any folder and case, with GET and HEAD', async () => {
    for (const target of [
      '/node_modules/x.js',
      '/node_modules/pkg/index.html',
      '/node_modules/pkg/',
      '/node_modules',
      '/lib/Node_Modules/y.js',
      '/.env',
      '/.git/config.txt',
      '/iisnode.yml',
      '/web.config',
    ]) {
      for (const method of ['GET', 'HEAD']) {
        const reply = await fetchStrict(host.url, target, { method });
        assert.equal(reply.status, 404, `${method} ${target}`);
        assert.equal(reply.headers.location, undefined, `${method} ${target}: a never-served folder is not redirected to`);
        assert.doesNotMatch(reply.text, /package source|SECRET|loggingEnabled|configuration/, `${method} ${target}`);
      }
    }
  });

  test('rewrite rules that name never-served files get 404.0 too', async () => {
    for (const [target, probe] of [
      ['/rules/pkg/x.js', 'rule-pkg'],
      ['/rules/env', 'rule-env'],
      ['/rules/yml', 'rule-yml'],
      ['/rules/config', 'rule-config'],
    ] as const) {
      const reply = await fetchStrict(host.url, `${target}?probe=${probe}`);
      assert.equal(reply.status, 404, target);
      assert.doesNotMatch(reply.text, /package source|SECRET|loggingEnabled|configuration/, target);
      const line = await accessLogLine('plain', target, probe);
      assert.equal(line['sc-substatus'], '0', `${target}: refused by the static handler`);
    }
  });

  test('ordinary files and .well-known are still served', async () => {
    assert.equal((await fetchStrict(host.url, '/')).text, '<p>home</p>\n');
    assert.equal((await fetchStrict(host.url, '/.well-known/security.txt')).status, 200);
  });
});

describe('a Kudu site: node_modules reaches node, but a rule result inside node_modules is never a static file', () => {
  let host: RunningHost;
  before(async () => {
    const root = writeSite('kudu', {
      'web.config': kuduConfig('<remove segment="bin"/>'),
      'server.js': COUNTING_APP,
      'public/site.css': 'p {}\n',
      'public/node_modules/leak.js': PRIVATE,
      'public/.secret.txt': 'SECRET=1\n',
    });
    host = await startNodehost(root);
  });
  after(async () => {
    await host?.stop();
  });

  test('/node_modules/... reaches node with req.url unchanged', async () => {
    const target = '/node_modules/express/package.json?x=1';
    const seen = JSON.parse((await fetchStrict(host.url, target)).text) as { url: string; originalUrl: string };
    assert.equal(seen.url, target);
    assert.equal(seen.originalUrl, target);
  });

  test('public/node_modules/leak.js and public/.secret.txt exist, so StaticContent keeps them static, and the static handler refuses them', async () => {
    assert.equal((await fetchStrict(host.url, '/site.css')).text, 'p {}\n');
    const before = (JSON.parse((await fetchStrict(host.url, '/count')).text) as { count: number }).count;
    for (const [target, probe] of [
      ['/node_modules/leak.js', 'leak'],
      ['/.secret.txt', 'secret'],
    ] as const) {
      const reply = await fetchStrict(host.url, `${target}?probe=${probe}`);
      assert.equal(reply.status, 404, target);
      assert.doesNotMatch(reply.text, /package source|SECRET/, target);
      assert.equal((await accessLogLine('kudu', target, probe))['sc-substatus'], '0', `${target}: refused by the static handler`);
    }
    const afterwards = (JSON.parse((await fetchStrict(host.url, '/count')).text) as { count: number }).count;
    assert.equal(afterwards, before + 1, 'node saw neither refused request');
  });
});

describe('a Kudu site that adds node_modules to hiddenSegments', () => {
  let host: RunningHost;
  before(async () => {
    const root = writeSite('kudu-hidden', {
      'web.config': kuduConfig('<remove segment="bin"/><add segment="node_modules"/>'),
      'server.js': COUNTING_APP,
      'public/site.css': 'p {}\n',
    });
    host = await startNodehost(root);
  });
  after(async () => {
    await host?.stop();
  });

  test('gets 404.8 before URL Rewrite: node never sees the request', async () => {
    const first = JSON.parse((await fetchStrict(host.url, '/count')).text) as { count: number; url: string };
    assert.equal(first.url, '/count');
    for (const [target, probe] of [
      ['/node_modules/express/package.json', 'pkg'],
      ['/Node_Modules/x', 'case'],
      ['/a/node_modules/b', 'deep'],
    ] as const) {
      const reply = await fetchStrict(host.url, `${target}?probe=${probe}`);
      assert.equal(reply.status, 404, target);
      assert.equal((await accessLogLine('kudu-hidden', target, probe))['sc-substatus'], '8', `${target}: refused by request filtering`);
    }
    const second = JSON.parse((await fetchStrict(host.url, '/count')).text) as { count: number };
    assert.equal(second.count, first.count + 1, 'node saw only the two /count requests');
  });

  test('other URLs still reach node', async () => {
    const seen = JSON.parse((await fetchStrict(host.url, '/node_modules_old/x')).text) as { url: string };
    assert.equal(seen.url, '/node_modules_old/x');
  });
});
