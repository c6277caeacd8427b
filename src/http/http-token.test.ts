import assert from 'node:assert/strict';
import { test } from 'node:test';
import { INVALID_FIELD_VALUE_CHAR, isHttpToken, isTokenCharCode } from './http-token.js';

/** The RegExp the table replaced (and node's header-name check): the two must agree on every character. */
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;

test('isTokenCharCode and isHttpToken agree with the RFC 9110 token RegExp on every code unit up to 0x17f', () => {
  for (let code = 0; code < 0x180; code++) {
    const char = String.fromCharCode(code);
    assert.equal(isTokenCharCode(code), TOKEN.test(char), `code 0x${code.toString(16)}`);
    assert.equal(isHttpToken(`X-${char}`), TOKEN.test(`X-${char}`), `name with 0x${code.toString(16)}`);
  }
});

test('isHttpToken refuses the empty string and accepts header names', () => {
  assert.equal(isHttpToken(''), false);
  for (const name of ['Content-Length', 'x-powered-by', "!#$%&'*+-.^_`|~", 'A1']) assert.equal(isHttpToken(name), true, name);
  for (const name of ['Content Length', 'Host:', 'X-\u0100', '(x)', '@']) assert.equal(isHttpToken(name), false, name);
});

test('INVALID_FIELD_VALUE_CHAR refuses controls other than tab, DEL, and characters above latin1', () => {
  assert.equal(INVALID_FIELD_VALUE_CHAR.test('text/html; charset=utf-8\t\x80\xff'), false);
  for (const bad of ['a\r\nb', 'a\nb', '\x00', '\x1f', '\x7f', '\u0100']) assert.equal(INVALID_FIELD_VALUE_CHAR.test(bad), true, JSON.stringify(bad));
});
