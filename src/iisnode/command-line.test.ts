import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildNodeCommand, splitCommandLine } from './command-line.js';

test('splitCommandLine splits on spaces and tabs', () => {
  assert.deepEqual(splitCommandLine('node  --max-old-space-size=4096\t--trace-warnings '), ['node', '--max-old-space-size=4096', '--trace-warnings']);
  assert.deepEqual(splitCommandLine(''), []);
  assert.deepEqual(splitCommandLine('   '), []);
});

test('splitCommandLine honours double quotes and keeps backslashes', () => {
  assert.deepEqual(splitCommandLine('"C:\\Program Files\\nodejs\\node.exe" --harmony'), ['C:\\Program Files\\nodejs\\node.exe', '--harmony']);
  assert.deepEqual(splitCommandLine('--title="a b" x'), ['--title=a b', 'x']);
  assert.deepEqual(splitCommandLine('a "" b'), ['a', '', 'b']);
  assert.deepEqual(splitCommandLine('"say ""hi"""'), ['say "hi"']);
  assert.deepEqual(splitCommandLine('"unclosed quote here'), ['unclosed quote here']);
});

test('a Windows node.exe maps to process.execPath with a warning', () => {
  for (const line of ['node.exe', '"%programfiles%\\nodejs\\node.exe"', 'C:\\node\\node.exe --inspect', '"C:\\Program Files\\nodejs\\node.exe"']) {
    const command = buildNodeCommand(line, '', '/usr/local/bin/node');
    assert.equal(command.command, '/usr/local/bin/node', line);
    assert.equal(command.warnings.length, 1, line);
  }
  assert.deepEqual(buildNodeCommand('C:\\node\\node.exe --inspect', '', '/n').args, ['--inspect']);
});

test('a Linux command line is used as written', () => {
  const command = buildNodeCommand('/opt/node/bin/node --max-old-space-size=512', '', '/n');
  assert.equal(command.command, '/opt/node/bin/node');
  assert.deepEqual(command.args, ['--max-old-space-size=512']);
  assert.deepEqual(command.warnings, []);
  assert.equal(buildNodeCommand('node', '', '/n').command, 'node');
});

test('an empty command line runs process.execPath', () => {
  const command = buildNodeCommand('', '', '/n');
  assert.equal(command.command, '/n');
  assert.equal(command.warnings.length, 1);
});

test('the interceptor goes before the script unless it is a Windows path', () => {
  assert.deepEqual(buildNodeCommand('node --a', '/srv/interceptor.js', '/n').args, ['--a', '/srv/interceptor.js']);
  assert.deepEqual(buildNodeCommand('node', '"/srv/my interceptor.js"', '/n').args, ['/srv/my interceptor.js']);
  const windows = buildNodeCommand('node', '"%programfiles%\\iisnode\\interceptor.js"', '/n');
  assert.deepEqual(windows.args, []);
  assert.equal(windows.warnings.length, 1);
  assert.deepEqual(buildNodeCommand('node', '  ', '/n').args, []);
});
