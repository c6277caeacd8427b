import assert from 'node:assert/strict';
import { test } from 'node:test';
import { escapeHtml } from './escape-html.js';

test('escapeHtml turns & < > " \' into entities and leaves everything else', () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  assert.equal(escapeHtml('&amp;'), '&amp;amp;', 'already escaped text is escaped again');
  assert.equal(escapeHtml('plain é € 😀 \x1b\t'), 'plain é € 😀 \x1b\t');
  assert.equal(escapeHtml(''), '');
});
