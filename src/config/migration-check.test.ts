import assert from 'node:assert/strict';
import { test } from 'node:test';
import { IGNORED_ON_LINUX } from './migration-check.js';
import { SETTINGS_BY_NAME } from './schema.js';

test('every setting listed as ignored on Linux is one the schema says nodehost accepts without using it', () => {
  for (const name of IGNORED_ON_LINUX) {
    const description = SETTINGS_BY_NAME.get(name)?.description ?? '';
    assert.match(description, /accepts the setting for compatibility|accepts and validates it but has no use for it|does nothing with it/, name);
  }
});
