/**
 * Configuration readers under random and mutated input (fast-check): the web.config reader
 * with its compilation into a site configuration, the iisnode.yml reader, the URL Rewrite
 * expression parser and the host configuration. Each returns a configuration or an error that
 * names its file and line (an expression error: its position); none throws anything else or
 * hangs. Run counts are modest to keep the suite fast; the seed is printed on failure.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import fc from 'fast-check';
import { loadHostConfig } from '../../src/config/host-config.js';
import { parseIisnodeYml } from '../../src/config/iisnode-yml.js';
import { ExpressionError, parseExpression } from '../../src/config/rewrite-expression.js';
import type { RewriteMap } from '../../src/config/rewrite-types.js';
import { SiteConfig } from '../../src/config/site-config.js';
import { NodehostError } from '../../src/errors.js';
import { SITES } from '../helpers/nodehost.js';

const RUNS = 60;
const dir = mkdtempSync(join(tmpdir(), 'nodehost-fuzz-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** The web.config files of the test sites: real configurations to mutate. */
const WEB_CONFIGS = readdirSync(SITES, { recursive: true, encoding: 'utf8' })
  .filter((name) => name.endsWith('web.config'))
  .map((name) => readFileSync(join(SITES, name), 'utf8'));

/** Pieces of configuration syntax that mutations insert, so they reach past the first parse error. */
const SYNTAX = [
  '<',
  '>',
  '/>',
  '"',
  "'",
  '&amp;',
  '&#x0;',
  '<![CDATA[',
  ']]>',
  '<!--',
  '-->',
  '{',
  '}',
  '{R:1}',
  '{C:9}',
  '{HTTP_HOST}',
  '{ToLower:',
  '%',
  '%PATH%',
  ':',
  '\n',
  '\r\n',
  '\t',
  '\u0000',
  '\uffff',
  '..',
  '/',
  '\\',
  'true',
  '0',
  '-1',
  '99999999999999999999',
  'location',
  'path="',
  'rule',
  'match url="',
  'action type="Rewrite"',
  'conditions',
  'add',
  'remove',
  'clear',
  'iisnode',
  'handlers',
  'rewriteMap',
];

/** mutated takes a text and applies a few random edits: delete a slice, insert syntax or random text, duplicate a slice. */
function mutated(sources: readonly string[]): fc.Arbitrary<string> {
  const edit = fc.record({
    kind: fc.constantFrom('delete', 'insert', 'random', 'duplicate'),
    at: fc.double({ min: 0, max: 1, noNaN: true }),
    length: fc.nat({ max: 40 }),
    piece: fc.constantFrom(...SYNTAX),
    text: fc.string({ maxLength: 20, unit: 'binary' }),
  });
  return fc.tuple(fc.constantFrom(...sources), fc.array(edit, { minLength: 1, maxLength: 6 })).map(([source, edits]) => {
    let text = source;
    for (const e of edits) {
      const at = Math.floor(e.at * text.length);
      if (e.kind === 'delete') text = text.slice(0, at) + text.slice(at + e.length);
      else if (e.kind === 'insert') text = text.slice(0, at) + e.piece + text.slice(at);
      else if (e.kind === 'random') text = text.slice(0, at) + e.text + text.slice(at);
      else text = text.slice(0, at) + text.slice(at, at + e.length * 4) + text.slice(at);
    }
    return text;
  });
}

/** assertLocated: the error is a NodehostError (of `code`, when given) naming a file and a line. */
function assertLocated(err: unknown, code?: string): void {
  assert.ok(err instanceof NodehostError, `not a NodehostError: ${(err as Error)?.stack ?? String(err)}`);
  if (code !== undefined) assert.equal(err.code, code);
  assert.ok(err.source !== undefined && err.source.file !== '' && err.source.line >= 1, `no file and line: ${err.message}`);
}

let siteCount = 0;
const MY_MAP: RewriteMap = { name: 'MyMap', entries: new Map([['a', 'b']]), defaultValue: '', ignoreCase: true };

describe('configuration fuzzing', () => {
  test('web.config: a mutated or random file loads into a site configuration whose errors name file and line', () => {
    fc.assert(
      fc.property(fc.oneof({ weight: 4, arbitrary: mutated(WEB_CONFIGS) }, { weight: 1, arbitrary: fc.string({ maxLength: 300, unit: 'binary' }) }), (text) => {
        const root = join(dir, `site-${siteCount++}`);
        mkdirSync(join(root, 'sub'), { recursive: true });
        writeFileSync(join(root, 'web.config'), text);
        writeFileSync(join(root, 'sub', 'web.config'), text);
        const config = SiteConfig.load(root);
        for (const err of config.errors) assertLocated(err);
        for (const url of ['/', '/sub/a.js', '/sub/x/y']) for (const err of config.forPath(url).errors) assertLocated(err);
        rmSync(root, { recursive: true, force: true });
      }),
      { numRuns: RUNS },
    );
  });

  test('iisnode.yml: random and mutated text gives overrides or NH_ERR_CONFIG_YML with a line', () => {
    const sample =
      'nodeProcessCountPerApplication: 2\nloggingEnabled: true\nnode_env: %NODE_ENV%\nwatchedFiles: *.js;iisnode.yml\n# comment\ndebugPortRange: 5058-6058\n';
    fc.assert(
      fc.property(fc.oneof(mutated([sample]), fc.string({ maxLength: 200, unit: 'binary' })), (text) => {
        try {
          parseIisnodeYml(text, '/site/iisnode.yml', { NODE_ENV: 'production' });
        } catch (err) {
          assertLocated(err, 'NH_ERR_CONFIG_YML');
        }
      }),
      { numRuns: RUNS * 3 },
    );
  });

  test('rewrite expressions: random and mutated text parses or gives ExpressionError with a position inside it', () => {
    const samples = ['{R:1}', '/a/{C:2}?x={HTTP_HOST}', '{ToLower:{URL}}', '{UrlEncode:{QUERY_STRING}}', 'https://{HTTP_HOST}{REQUEST_URI}', '{MyMap:{R:1}}'];
    fc.assert(
      fc.property(fc.oneof(mutated(samples), fc.string({ maxLength: 60 })), (text) => {
        try {
          parseExpression(text, (name) => (name.toLowerCase() === 'mymap' ? MY_MAP : undefined));
        } catch (err) {
          assert.ok(err instanceof ExpressionError, `not an ExpressionError: ${(err as Error)?.stack ?? String(err)}`);
          assert.ok(err.index >= 0 && err.index <= text.length, `position ${err.index} outside ${JSON.stringify(text)}`);
        }
      }),
      { numRuns: RUNS * 3 },
    );
  });

  test('nodehost.yml: random and mutated files give a host configuration or NH_ERR_CONFIG_HOST with a line', () => {
    const sample = `root: site\nname: shop\nhost: 0.0.0.0\nport: 8080\nhostProcesses: auto\nlimits:\n  headerTimeout: 30s\n  bodyTimeout: off\nfollowSymlinks: inside\nadmin:\n  listen: 127.0.0.1:9000\n  metrics: false\nglobalRules: |\n  <rule name="a"><match url="^old/(.*)" /><action type="Rewrite" url="new/{R:1}" /></rule>\n`;
    const file = join(dir, 'nodehost.yml');
    fc.assert(
      fc.property(fc.oneof({ weight: 3, arbitrary: mutated([sample]) }, { weight: 1, arbitrary: fc.string({ maxLength: 200, unit: 'binary' }) }), (text) => {
        writeFileSync(file, text);
        try {
          loadHostConfig(file);
        } catch (err) {
          assertLocated(err, 'NH_ERR_CONFIG_HOST');
        }
      }),
      { numRuns: RUNS },
    );
  });
});
