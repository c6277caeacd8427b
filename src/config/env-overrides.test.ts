import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readEnvOverrides } from './env-overrides.js';

test('IISNODE_<setting> variables are typed; names match case-insensitively', () => {
  const result = readEnvOverrides({
    IISNODE_nodeProcessCountPerApplication: '4',
    iisnode_loggingenabled: '0',
    IISNODE_DEVERRORSENABLED: 'TRUE',
    IISNODE_logDirectory: ' spaced ',
    PATH: '/bin',
  });
  assert.deepEqual(result.errors, []);
  assert.deepEqual(result.values, { nodeProcessCountPerApplication: 4, loggingEnabled: false, devErrorsEnabled: true, logDirectory: ' spaced ' });
  assert.equal(result.variables.loggingEnabled, 'iisnode_loggingenabled');
});

test('variables that name no setting are ignored', () => {
  const result = readEnvOverrides({ IISNODE_VERSION: '0.2.26', IISNODE_CONTROL_PIPE: '/x', IISNODE_: 'x', IISNODE_debugPortRange: '1-2' });
  assert.deepEqual(result.values, {});
  assert.deepEqual(result.errors, []);
});

test('bad values are NH_ERR_CONFIG_ENV naming the variable; the setting is not overridden', () => {
  const result = readEnvOverrides({
    IISNODE_loggingEnabled: 'yes',
    IISNODE_maxLogFiles: '12abc',
    IISNODE_maxConcurrentRequestsPerProcess: 'Infinite',
    IISNODE_gracefulShutdownTimeout: '-1',
  });
  assert.deepEqual(result.values, {});
  assert.equal(result.errors.length, 4);
  for (const error of result.errors) assert.equal(error.code, 'NH_ERR_CONFIG_ENV');
  assert.ok(result.errors.some((e) => /IISNODE_loggingEnabled/.test(e.message)));
  assert.ok(result.errors.some((e) => /IISNODE_maxLogFiles/.test(e.message)));
});

test('when Linux holds several spellings, the exact IISNODE_<settingName> wins', () => {
  const result = readEnvOverrides({ IISNODE_MAXLOGFILES: '1', IISNODE_maxLogFiles: '2', iisnode_maxlogfiles: '3' });
  assert.equal(result.values.maxLogFiles, 2);
  const first = readEnvOverrides({ IISNODE_MAXLOGFILES: '1', iisnode_maxlogfiles: '3' });
  assert.equal(first.values.maxLogFiles, 1);
});

test('an empty string value is kept for strings', () => {
  assert.deepEqual(readEnvOverrides({ IISNODE_interceptor: '' }).values, { interceptor: '' });
});
