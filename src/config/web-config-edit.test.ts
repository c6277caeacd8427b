import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getConfigValue, NEW_WEB_CONFIG, setConfigValue } from './web-config-edit.js';

const IISNODE = { elements: ['system.webServer', 'iisnode'], attribute: 'nodeProcessCountPerApplication' };

const FILE = `<?xml version="1.0" encoding="utf-8"?>
<!-- the shop's node part -->
<configuration>
    <system.webServer>
        <handlers>
            <add name="iisnode" path="app.js" verb="*" modules="iisnode" />
        </handlers>
        <!-- one worker for now -->
        <iisnode loggingEnabled='false' nodeProcessCountPerApplication="1" />
    </system.webServer>
</configuration>
`;

test('an existing attribute: only its value changes (comments, order, quotes, indentation kept)', () => {
  const edited = setConfigValue(FILE, 'web.config', IISNODE, '2');
  assert.equal(edited, FILE.replace('nodeProcessCountPerApplication="1"', 'nodeProcessCountPerApplication="2"'));
  assert.deepEqual(getConfigValue(edited, 'web.config', IISNODE), { value: '2', line: 9 });
  const quoted = setConfigValue(FILE, 'web.config', { ...IISNODE, attribute: 'loggingEnabled' }, `it's <"x">`);
  assert.match(quoted, /loggingEnabled='it&apos;s &lt;"x">'/);
  assert.equal(getConfigValue(quoted, 'web.config', { ...IISNODE, attribute: 'loggingEnabled' })?.value, `it's <"x">`);
});

test('a new attribute goes after the last one, on its own line when the attributes are one per line', () => {
  const edited = setConfigValue(FILE, 'web.config', { ...IISNODE, attribute: 'maxEventLoopBlockMs' }, '500');
  assert.equal(edited, FILE.replace('nodeProcessCountPerApplication="1" />', 'nodeProcessCountPerApplication="1" maxEventLoopBlockMs="500" />'));
  const tall =
    '<configuration>\r\n  <system.webServer>\r\n    <iisnode\r\n      loggingEnabled="false"\r\n    />\r\n  </system.webServer>\r\n</configuration>\r\n';
  assert.equal(
    setConfigValue(tall, 'web.config', IISNODE, '2'),
    tall.replace('loggingEnabled="false"', 'loggingEnabled="false"\r\n      nodeProcessCountPerApplication="2"'),
  );
});

test('missing elements are added under the deepest one found, indented like the file', () => {
  const noIisnode = FILE.replace(/ *<!-- one worker.*\n.*\n/, '');
  assert.equal(
    setConfigValue(noIisnode, 'web.config', IISNODE, '2'),
    noIisnode.replace('<system.webServer>\n', '<system.webServer>\n        <iisnode nodeProcessCountPerApplication="2" />\n'),
  );
  assert.equal(
    setConfigValue(NEW_WEB_CONFIG, 'web.config', IISNODE, '2'),
    '<?xml version="1.0" encoding="utf-8"?>\n<configuration>\n  <system.webServer>\n    <iisnode nodeProcessCountPerApplication="2" />\n  </system.webServer>\n</configuration>\n',
  );
  assert.equal(
    setConfigValue('<configuration>\n\t<system.webServer/>\n</configuration>', 'web.config', IISNODE, '3'),
    '<configuration>\n\t<system.webServer>\n\t\t<iisnode nodeProcessCountPerApplication="3" />\n\t</system.webServer>\n</configuration>',
  );
  assert.equal(getConfigValue(NEW_WEB_CONFIG, 'web.config', IISNODE), undefined);
});

test('elements inside <location> are not the top-level section; a byte order mark stays', () => {
  const located =
    '\ufeff<configuration><location path="x"><system.webServer><iisnode nodeProcessCountPerApplication="4"/></system.webServer></location></configuration>';
  assert.equal(getConfigValue(located, 'web.config', IISNODE), undefined);
  const edited = setConfigValue(located, 'web.config', IISNODE, '2');
  assert.ok(edited.startsWith('\ufeff<configuration>\n  <system.webServer>'));
  assert.equal(getConfigValue(edited, 'web.config', IISNODE)?.value, '2');
});

test('a file that is not well-formed is refused with its line', () => {
  assert.throws(() => setConfigValue('<configuration>\n<system.webServer>\n</configuration>', 'web.config', IISNODE, '2'), /NH_ERR_CONFIG_XML|Not well-formed/);
});

test('iisnode.yml: the winning line gets the value, keeping its comment; a new key is appended', async () => {
  const { findYmlValue, setYmlValue } = await import('./iisnode-yml-edit.js');
  const yml = '# overrides\nnodeProcessCountPerApplication: 1\n  NODEPROCESSCOUNTPERAPPLICATION :  3   # three for the sale\nloggingEnabled: false';
  assert.deepEqual(findYmlValue(yml, 'nodeProcessCountPerApplication'), { value: '3', line: 3 });
  assert.equal(
    setYmlValue(yml, 'nodeProcessCountPerApplication', '2'),
    '# overrides\nnodeProcessCountPerApplication: 1\n  NODEPROCESSCOUNTPERAPPLICATION :  2   # three for the sale\nloggingEnabled: false',
  );
  assert.equal(setYmlValue(yml, 'maxHeapMB', '512'), `${yml}\nmaxHeapMB: 512\n`);
  assert.equal(findYmlValue('debugPortRange:\n', 'debugPortRange'), undefined, 'an empty value sets nothing');
});
