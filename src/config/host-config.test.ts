import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { NodehostError } from '../errors.js';
import { loadHostConfig, parseBinding } from './host-config.js';

const dir = mkdtempSync(path.join(tmpdir(), 'nodehost-hostcfg-'));
after(() => rmSync(dir, { recursive: true, force: true }));

let count = 0;
/** write creates a fresh folder holding nodehost.yml (and `files`), and returns the yml path. */
function write(yml: string, files: Record<string, string> = {}): string {
  const sub = path.join(dir, String(count++));
  mkdirSync(sub, { recursive: true });
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(sub, name);
    mkdirSync(path.dirname(file), { recursive: true });
    writeFileSync(file, text);
  }
  const file = path.join(sub, 'nodehost.yml');
  writeFileSync(file, yml);
  return file;
}

function loadError(file: string): NodehostError {
  try {
    loadHostConfig(file);
  } catch (err) {
    assert.ok(err instanceof NodehostError, String(err));
    return err;
  }
  assert.fail('loadHostConfig did not throw');
}

describe('nodehost.yml', () => {
  test('reads root, name, host, port and resolves root against the file', () => {
    const file = write('root: site\nname: demo\nhost: 0.0.0.0\nport: 8081\n');
    const config = loadHostConfig(file);
    assert.equal(config.root, path.join(path.dirname(file), 'site'));
    assert.equal(config.name, 'demo');
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.port, 8081);
    assert.equal(config.globalRules, undefined);
  });

  test('hostProcesses is a positive integer or auto (the CPU count); anything else names file:line', () => {
    assert.equal(loadHostConfig(write('port: 80\nhostProcesses: 3\n')).hostProcesses, 3);
    assert.equal(loadHostConfig(write('hostProcesses: auto\n')).hostProcesses, availableParallelism());
    assert.equal(loadHostConfig(write('port: 80\n')).hostProcesses, undefined);
    for (const bad of ['0', '-1', '1.5', 'many', '"2"', 'true', '']) {
      const file = write(`port: 80\nhostProcesses: ${bad}\n`);
      const err = loadError(file);
      assert.equal(err.code, 'NH_ERR_CONFIG_HOST');
      assert.equal(err.where(), `${file}:2`, bad);
      assert.match(err.message, /hostProcesses/);
    }
  });

  test('applications and virtualDirectories: { path, root } entries resolved against the file; bad ones name file:line', () => {
    const site = (lines: string) => `sites:\n  - name: a\n    root: a\n    bindings: ["http://*:8080"]\n${lines}`;
    const file = write(
      site('    applications:\n      - { path: /node/, root: samples }\n    virtualDirectories:\n      - { path: /media, root: /srv/media }\n'),
    );
    assert.deepEqual(loadHostConfig(file).sites![0]!.mounts, [
      { url: '/node', dir: path.join(path.dirname(file), 'samples'), isApplication: true },
      { url: '/media', dir: '/srv/media', isApplication: false },
    ]);
    const cases: [string, number, RegExp][] = [
      ['    applications: /node\n', 5, /must be a list/],
      ['    applications:\n      - { path: node, root: x }\n', 6, /URL path below the site root/],
      ['    applications:\n      - { path: /, root: x }\n', 6, /URL path below the site root/],
      ['    applications:\n      - { path: /a/../b, root: x }\n', 6, /URL path below the site root/],
      ['    applications:\n      - { path: /a }\n', 6, /needs a 'root'/],
      ['    applications:\n      - { path: /a, root: x, pool: y }\n', 6, /unknown applications setting 'pool'/],
      ['    applications:\n      - { path: /a, root: x }\n    virtualDirectories:\n      - { path: /A/, root: y }\n', 8, /mounted twice/],
    ];
    for (const [lines, line, message] of cases) {
      const bad = write(site(lines));
      const err = loadError(bad);
      assert.equal(err.where(), `${bad}:${line}`, lines);
      assert.match(err.message, message);
    }
  });

  test('user and group: names or numeric ids; group needs user; the short form takes them', () => {
    const config = loadHostConfig(write('root: .\nuser: www-data\ngroup: 33\n'));
    assert.deepEqual([config.user, config.group], ['www-data', '33']);
    for (const [yml, line, message] of [
      ['root: .\nuser: "a b"\n', 2, /'user' must be a user name/],
      ['root: .\nuser: [x]\n', 2, /'user' must be a user name/],
      ['root: .\ngroup: staff\n', 2, /'group' needs 'user'/],
    ] as const) {
      const file = write(yml);
      const err = loadError(file);
      assert.equal(err.where(), `${file}:${line}`);
      assert.match(err.message, message);
    }
  });

  test('trustedProxies: addresses and subnets, one string or a list; bad entries name their line', () => {
    assert.deepEqual(loadHostConfig(write('root: .\ntrustedProxies:\n  - 10.0.0.0/8\n  - "::1"\n')).trustedProxies, [
      { address: '10.0.0.0', prefix: 8, family: 'ipv4' },
      { address: '::1', prefix: 128, family: 'ipv6' },
    ]);
    assert.deepEqual(loadHostConfig(write('trustedProxies: 127.0.0.1\n')).trustedProxies, [{ address: '127.0.0.1', prefix: 32, family: 'ipv4' }]);
    for (const [yml, line] of [
      ['root: .\ntrustedProxies:\n  - 10.0.0.0/8\n  - proxy.example\n', 4],
      ['root: .\ntrustedProxies: [10.0.0.0/33]\n', 2],
      ['root: .\ntrustedProxies: []\n', 2],
    ] as const) {
      const file = write(yml);
      const err = loadError(file);
      assert.equal(err.where(), `${file}:${line}`, yml);
      assert.match(err.message, /trusted/i);
    }
  });

  test('a binding host is a name, * or *.domain, or an IP literal that names the local address', () => {
    assert.deepEqual(parseBinding('http://shop.test:80'), { protocol: 'http', host: 'shop.test', port: 80, text: 'http://shop.test:80' });
    assert.equal(parseBinding('http://127.0.0.1:8080')?.address, '127.0.0.1');
    assert.equal(parseBinding('https://[::1]:8443')?.address, '::1');
    assert.equal(parseBinding('https://[::1]:8443')?.host, '[::1]');
    assert.equal(parseBinding('http://[shop]:80'), undefined);
    assert.equal(parseBinding('http://*.test:99999'), undefined);
  });

  test('admin.healthPath is a URL path; anything else names file:line', () => {
    assert.equal(loadHostConfig(write('root: .\nadmin:\n  healthPath: /_nodehost/probe\n')).admin?.healthPath, '/_nodehost/probe');
    for (const bad of ['_nodehost', '/', '/a/', '/a/../b', '/a?b', '1']) {
      const err = loadError(write(`root: .\nadmin:\n  healthPath: "${bad}"\n`));
      assert.equal(err.source?.line, 3, bad);
      assert.match(err.message, /'admin.healthPath' must be a URL path/, bad);
    }
  });

  test('unknown keys are errors naming the line', () => {
    const err = loadError(write('root: .\nglobalrules: x\n'));
    assert.equal(err.code, 'NH_ERR_CONFIG_HOST');
    assert.equal(err.source?.line, 2);
    assert.match(err.message, /globalRules/);
  });
});

describe('nodehost.yml globalRules', () => {
  test('inline XML (block scalar) compiles to rules with scope / in document order, disabled ones dropped', () => {
    const file = write(
      [
        'root: .',
        'globalRules: |',
        '  <globalRules>',
        '    <rule name="One"><match url="^old/(.*)"/><action type="Rewrite" url="new/{R:1}"/></rule>',
        '    <rule name="Off" enabled="false"><match url="x"/><action type="Rewrite" url="y"/></rule>',
        '    <rule name="Two" stopProcessing="true"><match url="^a$"/><action type="Redirect" url="/b"/></rule>',
        '  </globalRules>',
        '',
      ].join('\n'),
    );
    const rules = loadHostConfig(file).globalRules;
    assert.ok(rules);
    assert.deepEqual(
      rules.map((rule) => [rule.name, rule.scope, rule.stopProcessing]),
      [
        ['One', '/', false],
        ['Two', '/', true],
      ],
    );
    // Lines point into nodehost.yml.
    assert.deepEqual(
      rules.map((rule) => [rule.source.file, rule.source.line]),
      [
        [file, 4],
        [file, 6],
      ],
    );
  });

  test('a path to applicationHost.config-style XML, relative to nodehost.yml, with rewrite maps beside the rules', () => {
    const xml = `<?xml version="1.0"?>
<configuration>
  <system.applicationHost><sites/></system.applicationHost>
  <system.webServer>
    <httpCompression/>
    <rewrite>
      <rewriteMaps><rewriteMap name="Moved"><add key="/a" value="/b"/></rewriteMap></rewriteMaps>
      <globalRules>
        <rule name="FromMap"><match url=".*"/><conditions><add input="{Moved:{URL}}" pattern="(.+)"/></conditions><action type="Rewrite" url="{C:1}"/></rule>
      </globalRules>
      <allowedServerVariables><add name="HTTP_X"/></allowedServerVariables>
    </rewrite>
  </system.webServer>
</configuration>`;
    const file = write('globalRules: conf/global.config\n', { 'conf/global.config': xml });
    const rules = loadHostConfig(file).globalRules;
    assert.equal(rules?.length, 1);
    assert.equal(rules![0]!.name, 'FromMap');
    assert.equal(rules![0]!.source.file, path.join(path.dirname(file), 'conf/global.config'));
    assert.equal(rules![0]!.source.line, 9);
  });

  test('a bare list of <rule> elements, as IIS Manager shows them, reads as if inside <globalRules>; lines stay right', () => {
    const file = write(
      [
        'root: .',
        'globalRules: |',
        '  <rule name="One"><match url="^old/(.*)"/><action type="Rewrite" url="new/{R:1}"/></rule>',
        '  <!-- pasted from IIS Manager -->',
        '  <rule name="Two" stopProcessing="true">',
        '    <match url="^a$"/>',
        '    <action type="Redirect" url="/b"/>',
        '  </rule>',
        '',
      ].join('\n'),
    );
    const rules = loadHostConfig(file).globalRules;
    assert.deepEqual(
      rules?.map((rule) => [rule.name, rule.scope, rule.source.line]),
      [
        ['One', '/', 3],
        ['Two', '/', 5],
      ],
    );
    // One rule alone, inline on the key's line.
    assert.deepEqual(
      loadHostConfig(write(`root: .\nglobalRules: '<rule name="Solo"><match url="x"/></rule>'\n`)).globalRules?.map((rule) => [rule.name, rule.source.line]),
      [['Solo', 2]],
    );
  });

  test('a file holding bare <rule> elements (after an XML declaration) keeps its lines and columns in errors', () => {
    const xml =
      '<?xml version="1.0"?>\n<!-- global -->\n<rule name="A"><match url="a"/></rule>  <rule name="B" colour="red"><match url="(unclosed"/></rule>\n<rule name="C"/>\n';
    const file = write('globalRules: conf/rules.config\n', { 'conf/rules.config': xml });
    const err = loadError(file);
    assert.equal(err.source?.file, path.join(path.dirname(file), 'conf/rules.config'));
    assert.equal(err.source?.line, 3);
    // The column of colour="red" in the file as written (the wrapper must not shift it).
    assert.equal(err.source?.column, xml.split('\n')[2]!.indexOf('colour') + 1);
    assert.match(err.message, /Rule 'B'.*unknown attribute 'colour'/s);
    assert.match(err.message, /1 more:.*invalid ECMAScript pattern/s);
    const good = write('globalRules: rules.config\n', { 'rules.config': '<rule name="A"><match url="a"/></rule>\n<rule name="B"><match url="b"/></rule>' });
    assert.deepEqual(
      loadHostConfig(good).globalRules?.map((rule) => [rule.name, rule.source.line, rule.source.column]),
      [
        ['A', 1, 1],
        ['B', 2, 1],
      ],
    );
  });

  test('bare <rule> elements must be well-formed, and other elements beside them are errors as inside <globalRules>', () => {
    assert.equal(loadError(write(`globalRules: '<rule name="x"><match url="a"/>'\n`)).code, 'NH_ERR_CONFIG_XML');
    assert.match(loadError(write(`globalRules: '<rule name="x"/><rewriteMaps/>'\n`)).message, /Unknown element <rewriteMaps>/);
  });

  test('<rewrite> as the root element; an empty <globalRules> or an empty value means no rules', () => {
    assert.equal(loadHostConfig(write("globalRules: '<rewrite><globalRules/></rewrite>'\n")).globalRules, undefined);
    assert.equal(loadHostConfig(write("globalRules: ''\n")).globalRules, undefined);
  });

  test('a malformed rule is an error naming file:line and the rule', () => {
    const file = write(
      [
        'root: .',
        'globalRules: |',
        '  <globalRules>',
        '    <rule name="Good"><match url="a"/></rule>',
        '    <rule name="Broken"><match url="(unclosed"/><action type="Rewrite" url="/x"/></rule>',
        '  </globalRules>',
      ].join('\n'),
    );
    const err = loadError(file);
    assert.equal(err.code, 'NH_ERR_REWRITE_RULE');
    assert.equal(err.source?.file, file);
    assert.equal(err.source?.line, 5);
    assert.match(err.message, /Rule 'Broken'/);
  });

  test('several errors: the first is thrown and the others are listed in its message', () => {
    const err = loadError(
      write('globalRules: \'<globalRules><rule name="A" stopProcessing="maybe"/><rule name="B"><action type="Jump"/></rule></globalRules>\'\n'),
    );
    assert.match(err.message, /Rule 'A'/);
    assert.match(err.message, /; 1 more:/);
    assert.match(err.message, /Rule 'B'/);
  });

  test('IsFile and IsDirectory conditions are refused in global rules', () => {
    const err = loadError(
      write(`globalRules: '<globalRules><rule name="F"><conditions><add input="{REQUEST_FILENAME}" matchType="IsFile"/></conditions></rule></globalRules>'\n`),
    );
    assert.match(err.message, /Rule 'F'.*IsFile and IsDirectory/);
  });

  test('duplicate names, <rules> in the host file, a wrong root, bad XML and a missing file are errors', () => {
    assert.equal(loadError(write(`globalRules: '<globalRules><rule name="D"/><rule name="d"/></globalRules>'\n`)).code, 'NH_ERR_CONFIG_DUPLICATE_KEY');
    assert.match(loadError(write(`globalRules: '<rewrite><globalRules/><rules/></rewrite>'\n`)).message, /<rules> is not read from the host configuration/);
    assert.match(loadError(write(`globalRules: '<rules><rule name="x"/></rules>'\n`)).message, /root element/);
    assert.match(loadError(write(`globalRules: '<configuration><system.webServer/></configuration>'\n`)).message, /holds no <rewrite>/);
    assert.equal(loadError(write(`globalRules: '<globalRules><rule name="x"></globalRules>'\n`)).code, 'NH_ERR_CONFIG_XML');
    const missing = loadError(write('root: .\nglobalRules: nowhere.config\n'));
    assert.equal(missing.code, 'NH_ERR_CONFIG_HOST');
    assert.equal(missing.source?.line, 2);
    assert.equal(loadError(write('globalRules: 3\n')).code, 'NH_ERR_CONFIG_HOST');
  });
});

describe('trustedProxies', () => {
  test('reads addresses and CIDR ranges of both families', () => {
    const config = loadHostConfig(write('trustedProxies:\n  - 127.0.0.1\n  - 10.0.0.0/8\n  - "::1"\n  - fd00::/8\n  - ::ffff:192.0.2.1\n'));
    assert.deepEqual(config.trustedProxies, [
      { address: '127.0.0.1', prefix: 32, family: 'ipv4' },
      { address: '10.0.0.0', prefix: 8, family: 'ipv4' },
      { address: '::1', prefix: 128, family: 'ipv6' },
      { address: 'fd00::', prefix: 8, family: 'ipv6' },
      { address: '192.0.2.1', prefix: 32, family: 'ipv4' },
    ]);
    assert.equal(loadHostConfig(write('root: .\n')).trustedProxies, undefined);
  });

  test('a bad entry names its own line; a value that is neither a list nor an address is an error', () => {
    for (const bad of ['10.0.0.0/33', 'balancer.example', '10.0.0/8', '1.2.3.4/x']) {
      const err = loadError(write(`trustedProxies:\n  - 127.0.0.1\n  - ${bad}\n`));
      assert.equal(err.code, 'NH_ERR_CONFIG_HOST');
      assert.equal(err.source?.line, 3, bad);
      assert.match(err.message, /is not an IP address or CIDR range/);
    }
    const mapping = loadError(write('trustedProxies:\n  balancer: 127.0.0.1\n'));
    assert.match(mapping.message, /must be a list of addresses or CIDR ranges/);
    assert.equal(mapping.source?.line, 1);
  });
});

describe('nodehost.yml tls: { selfSigned: true }', () => {
  const site = (tls: string, bindings: string) => `sites:\n  - name: my site\n    root: .\n    bindings: ${bindings}\n    tls: ${tls}\n`;

  test('certifies the https bindings: names, IP literals, and * as localhost and loopback; the file beside nodehost.yml', () => {
    const file = write(site('{ selfSigned: true }', '["http://*:80", "https://shop.test:443", "https://[::1]:8443", "https://*:9443"]'));
    const pem = path.join(path.dirname(file), 'self-signed', 'my_site.pem');
    assert.deepEqual(loadHostConfig(file).sites![0]!.tls, { certificate: pem, key: pem, selfSigned: ['shop.test', '::1', 'localhost', '127.0.0.1'] });
  });

  test('bad selfSigned settings name file:line', () => {
    const cases: [string, RegExp][] = [
      [site('{ selfSigned: yes }', '["https://*:443"]'), /'selfSigned' must be true or false/],
      [site('{ selfSigned: true, certificate: a.pem }', '["https://*:443"]'), /'selfSigned: true' and certificate files/],
      [site('{ selfSigned: true, acme: true }', '["https://shop.test:443"]'), /'acme: true' and 'selfSigned: true'/],
      [site('{ selfSigned: true }', '["http://*:80"]'), /needs an https binding/],
    ];
    for (const [yml, message] of cases) {
      const err = loadError(write(yml));
      assert.equal(err.code, 'NH_ERR_CONFIG_HOST', yml);
      assert.equal(err.source?.line, 5, yml);
      assert.match(err.message, message, yml);
    }
  });
});

describe('nodehost.yml acme', () => {
  const site = (tls: string, bindings = '["http://shop.test:80", "https://shop.test:443"]') =>
    `sites:\n  - name: shop\n    root: .\n    bindings: ${bindings}\n    tls: ${tls}\n`;

  test('tls: { acme: true } with the acme settings resolved against the file; defaults without them', () => {
    const file = write(`${site('{ acme: true }')}acme: { email: ops@shop.test, directory: "https://ca.test/dir", storage: state, caFile: ca.pem }\n`, {
      'ca.pem': '',
    });
    const config = loadHostConfig(file);
    assert.equal(config.sites![0]!.acme, true);
    assert.equal(config.sites![0]!.tls, undefined);
    assert.deepEqual(config.acme, {
      email: 'ops@shop.test',
      directory: 'https://ca.test/dir',
      storage: path.join(path.dirname(file), 'state'),
      caFile: path.join(path.dirname(file), 'ca.pem'),
    });
    const defaults = write(site('{ acme: true }'));
    assert.deepEqual(loadHostConfig(defaults).acme, {
      directory: 'https://acme-v02.api.letsencrypt.org/directory',
      storage: path.join(path.dirname(defaults), 'acme'),
    });
    assert.equal(loadHostConfig(write(site('{ certificate: a.pem, key: a.key }'))).acme, undefined, 'no acme site: no acme settings');
    assert.equal(loadHostConfig(write(`${site('{ acme: true }')}acme: { retryDelay: 500ms }\n`)).acme?.retryDelayMs, 500);
    assert.equal(loadHostConfig(write(`${site('{ acme: true }')}acme: { retryDelay: 30 }\n`)).acme?.retryDelayMs, 30_000);
  });

  test('bad acme settings name file:line', () => {
    const cases: [string, number, RegExp][] = [
      [`${site('{ acme: true }')}acme: { email: ops@shop.test, storag: x }\n`, 6, /unknown acme setting 'storag'/],
      [`${site('{ acme: true }')}acme: { email: nobody }\n`, 6, /e-mail address/],
      [`${site('{ acme: true }')}acme:\n  directory: ftp://ca.test\n`, 7, /directory's URL/],
      [`${site('{ acme: true }')}acme: true\n`, 6, /must be a mapping/],
      [`${site('{ acme: true }')}acme:\n  email: ops@shop.test\n  caFile: none.pem\n`, 8, /'caFile': no file .*none\.pem/],
      [site('{ acme: yes }'), 5, /'acme' must be true or false/],
      [site('{ acme: true, certificate: a.pem }'), 5, /one or the other/],
      [site('{ acme: true }', '["https://*:443"]'), 5, /needs host names/],
      [site('{ acme: true }', '["http://shop.test:80"]'), 5, /needs an https binding/],
      [`${site('{ acme: true }')}hostProcesses: 2\n`, 6, /one host process/],
      [`${site('{ acme: true }')}acme:\n  retryDelay: soon\n`, 7, /'retryDelay' must be a duration/],
      [`${site('{ acme: true }')}acme:\n  retryDelay: 0\n`, 7, /'retryDelay' must be a duration/],
      [`${site('{ acme: true }')}acme:\n  retryDelay: 13h\n`, 7, /at most 12h/],
    ];
    for (const [yml, line, message] of cases) {
      const err = loadError(write(yml));
      assert.equal(err.code, 'NH_ERR_CONFIG_HOST', yml);
      assert.equal(err.source?.line, line, yml);
      assert.match(err.message, message, yml);
    }
  });
});

describe('limits and followSymlinks', () => {
  test('durations in ms, s, m or bare seconds, off, and defaults for absent keys', () => {
    assert.deepEqual(loadHostConfig(write('limits:\n  headerTimeout: 500ms\n  requestTimeout: 2m\n')).limits, {
      headerTimeoutMs: 500,
      bodyTimeoutMs: 60_000,
      requestTimeoutMs: 120_000,
      maxConnections: 10_000,
      idleTimeoutMs: 75_000,
      ticketKeyRotationMs: 43_200_000,
      maxHeaderCount: 200,
      halfClose: 'abort',
    });
    assert.deepEqual(loadHostConfig(write('limits:\n  bodyTimeout: off\n  headerTimeout: 30\n')).limits, {
      headerTimeoutMs: 30_000,
      bodyTimeoutMs: 0,
      requestTimeoutMs: 0,
      maxConnections: 10_000,
      idleTimeoutMs: 75_000,
      ticketKeyRotationMs: 43_200_000,
      maxHeaderCount: 200,
      halfClose: 'abort',
    });
    assert.equal(loadHostConfig(write('limits:\n  maxConnections: 50\n')).limits?.maxConnections, 50);
    assert.equal(loadHostConfig(write('limits:\n  maxHeaderCount: 0\n')).limits?.maxHeaderCount, 0);
    assert.equal(loadHostConfig(write('limits:\n  halfClose: respond\n')).limits?.halfClose, 'respond');
    assert.equal(loadHostConfig(write('limits:\n  idleTimeout: 2s\n  ticketKeyRotation: 6h\n')).limits?.ticketKeyRotationMs, 21_600_000);
    assert.equal(loadHostConfig(write('followSymlinks: never\n')).followSymlinks, 'never');
    assert.equal(loadHostConfig(write('followSymlinks: ownerMatch\n')).followSymlinks, 'ownerMatch');
    assert.equal(loadHostConfig(write('port: 1\n')).followSymlinks, undefined);
  });

  test('bad values name the setting and the line', () => {
    const cases: [string, RegExp, number][] = [
      ['port: 1\nlimits:\n  headerTimeout: soon\n', /limits\.headerTimeout/, 3],
      ['limits:\n  keepAlive: 1s\n', /unknown setting 'limits\.keepAlive'/, 2],
      ['limits: 5\n', /must be a mapping/, 1],
      ['limits:\n  maxConnections: many\n', /limits\.maxConnections/, 2],
      ['limits:\n  headerTimeout: 5s\n  maxHeaderCount: -1\n', /'limits\.maxHeaderCount' must be a whole number/, 3],
      ['limits:\n  halfClose: ignore\n', /'limits\.halfClose' must be abort or respond \(got "ignore"\)/, 2],
      ['limits:\n  headerTimeout: 10s\n  requestTimeout: 5s\n', /no longer than/, 1],
      ['\nfollowSymlinks: sometimes\n', /'followSymlinks' must be one of inside, always, never, ownerMatch/, 2],
      ['port: 1\nfollowSymlinks: ownermatch\n', /'followSymlinks' must be one of .*\(got "ownermatch"\)/, 2],
    ];
    for (const [yml, message, line] of cases) {
      const err = loadError(write(yml));
      assert.match(err.message, message);
      assert.equal(err.source?.line, line, yml);
    }
  });
});
