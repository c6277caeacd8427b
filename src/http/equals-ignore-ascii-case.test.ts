import assert from 'node:assert/strict';
import { test } from 'node:test';
import { equalsIgnoreAsciiCase } from './equals-ignore-ascii-case.js';

test('equalsIgnoreAsciiCase matches names in any ASCII case', () => {
  for (const name of ['content-length', 'Content-Length', 'CONTENT-LENGTH', 'cOnTeNt-LeNgTh'])
    assert.equal(equalsIgnoreAsciiCase(name, 'content-length'), true, name);
});

test('equalsIgnoreAsciiCase folds letters only', () => {
  // 0x0d | 0x20 is '-', 0x1f | 0x20 is '?': such bytes must not pass for the character.
  assert.equal(equalsIgnoreAsciiCase('content\rlength', 'content-length'), false);
  assert.equal(equalsIgnoreAsciiCase('a\x1f', 'a?'), false);
  assert.equal(equalsIgnoreAsciiCase('x_y', 'x\x7fy'), false);
  // Non-ASCII letters are not folded (toLowerCase would fold them; no header name has one).
  assert.equal(equalsIgnoreAsciiCase('\u00c9', '\u00e9'), false);
  assert.equal(equalsIgnoreAsciiCase('host', 'hosts'), false);
  assert.equal(equalsIgnoreAsciiCase('hosT', 'host'), true);
});

test('equalsIgnoreAsciiCase agrees with toLowerCase on every ASCII pair against a lower-case letter, digit or sign', () => {
  for (let l = 0x21; l < 0x7f; l++) {
    const lower = String.fromCharCode(l);
    if (lower !== lower.toLowerCase()) continue;
    for (let c = 0; c < 0x80; c++) {
      const char = String.fromCharCode(c);
      assert.equal(equalsIgnoreAsciiCase(char, lower), char.toLowerCase() === lower, `0x${c.toString(16)} vs ${lower}`);
    }
  }
});
