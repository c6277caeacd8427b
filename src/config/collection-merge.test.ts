import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NodehostError, SourcePosition } from '../errors.js';
import { mergeCollection, type CollectionOp, type Entry } from './collection-merge.js';
import { RewriteMerge } from './rewrite-compile.js';
import { newRewriteSection, readRewriteSection } from './rewrite-config.js';
import { parseXml } from './xml.js';

const at = (line: number): SourcePosition => ({ file: '/site/web.config', line });
const add = (key: string, value: string, line: number): CollectionOp<string> => ({ kind: 'add', key, value, source: at(line) });

test('append and prepend; remove and clear; a repeated key is an error and the later entry is kept as if removed first', () => {
  const inherited: Entry<string>[] = [
    { key: 'a', value: 'A', source: undefined },
    { key: 'b', value: 'B', source: at(1) },
  ];
  const errors: NodehostError[] = [];
  const appended = mergeCollection(
    inherited,
    [add('c', 'C', 2), { kind: 'remove', key: 'a', source: at(3) }, add('b', 'B2', 4)],
    { order: 'append', section: 's', keyName: 'k' },
    errors,
  );
  assert.deepEqual(
    appended.map((e) => e.value),
    ['C', 'B2'],
  );
  assert.deepEqual(
    errors.map((e) => [e.code, e.source?.line]),
    [['NH_ERR_CONFIG_DUPLICATE_KEY', 4]],
  );
  assert.match(errors[0]!.message, /^Cannot add duplicate collection entry to s: k 'b' is already defined \(at \/site\/web\.config:1\)/);
  const prepended = mergeCollection(inherited, [add('c', 'C', 2), add('d', 'D', 3)], { order: 'prepend', section: 's', keyName: 'k' }, []);
  assert.deepEqual(
    prepended.map((e) => e.value),
    ['C', 'D', 'A', 'B'],
  );
  assert.deepEqual(
    mergeCollection(inherited, [{ kind: 'clear', source: at(2) }, add('e', 'E', 3)], { order: 'append', section: 's', keyName: 'k' }, []).map((e) => e.key),
    ['e'],
  );
  assert.equal(mergeCollection(inherited, [], { order: 'append', section: 's', keyName: 'k' }, []), inherited);
});

test('build turns added values into stored ones; undefined drops the entry', () => {
  const errors: NodehostError[] = [];
  const merged = mergeCollection<number, string>(
    [],
    [add('x', '1', 1), add('y', 'no', 2)],
    { order: 'append', section: 's', keyName: 'k', build: (v) => (/^\d+$/.test(v) ? Number(v) : undefined) },
    errors,
  );
  assert.deepEqual(
    merged.map((e) => [e.key, e.value]),
    [['x', 1]],
  );
  assert.deepEqual(errors, []);
});

test('URL Rewrite rules use the same merge: a name added again at a lower level is a duplicate, named as written', () => {
  const layer = (xml: string, line: number) => {
    const section = newRewriteSection();
    const errors: NodehostError[] = [];
    readRewriteSection(parseXml('\n'.repeat(line - 1) + xml, '/site/web.config'), '/site/web.config', '/', section, errors);
    assert.deepEqual(errors, []);
    return section;
  };
  const rule = (name: string, url: string) => `<rule name="${name}"><match url=".*"/><action type="Rewrite" url="${url}"/></rule>`;
  const parent = new RewriteMerge();
  const errors: NodehostError[] = [];
  parent.apply(layer(`<rewrite><rules>${rule('Same', '/a')}${rule('Other', '/o')}</rules></rewrite>`, 3), errors);
  const child = new RewriteMerge(parent);
  child.apply(layer(`<rewrite><rules>${rule('SAME', '/b')}</rules></rewrite>`, 9), errors);
  assert.deepEqual(
    errors.map((e) => [e.code, e.source?.line]),
    [['NH_ERR_CONFIG_DUPLICATE_KEY', 9]],
  );
  assert.match(errors[0]!.message, /system\.webServer\/rewrite\/rules: name 'SAME' is already defined \(at \/site\/web\.config:3\)/);
  // What nodehost keeps (never served: the level fails) is the later rule, as for every collection.
  assert.deepEqual(
    child.freeze()?.rules.map((r) => r.name),
    ['Other', 'SAME'],
  );
  assert.deepEqual(
    parent.freeze()?.rules.map((r) => r.name),
    ['Same', 'Other'],
  );
});
