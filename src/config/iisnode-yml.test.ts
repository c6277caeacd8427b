import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { NodehostError } from '../errors.js';
import { parseIisnodeYml, readIisnodeYml } from './iisnode-yml.js';

const FILE = '/app/iisnode.yml';
const ENV = { NODE_ENV: 'production', HOME: '/home/u' };

function values(text: string): Record<string, unknown> {
  return { ...parseIisnodeYml(text, FILE, ENV).values };
}

function failsAt(text: string, line: number): NodehostError {
  let caught: unknown;
  try {
    parseIisnodeYml(text, FILE, ENV);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof NodehostError, `expected an error for ${JSON.stringify(text)}`);
  assert.equal(caught.code, 'NH_ERR_CONFIG_YML');
  assert.equal(caught.source?.file, FILE);
  assert.equal(caught.source?.line, line, JSON.stringify(text));
  return caught;
}

test('an empty file, blank lines, space-only lines and comment-only lines set nothing', () => {
  assert.deepEqual(values(''), {});
  assert.deepEqual(values('\n\n   \n# comment\n   # indented comment\n'), {});
});

test('key: value lines with spaces around the colon, trailing spaces and comments', () => {
  assert.deepEqual(values('maxLogFiles: 5'), { maxLogFiles: 5 });
  assert.deepEqual(values('maxLogFiles:5'), { maxLogFiles: 5 });
  assert.deepEqual(values('   maxLogFiles   :    5    # five'), { maxLogFiles: 5 });
  assert.deepEqual(values('maxLogFiles : 5#five'), { maxLogFiles: 5 });
  assert.deepEqual(values('\nmaxLogFiles: 5\n\nloggingEnabled: false\n'), { maxLogFiles: 5, loggingEnabled: false });
});

test('lines end at \\r or \\n, and \\r\\n counts as one line for error positions', () => {
  assert.deepEqual(values('maxLogFiles: 5\rmaxTotalLogFileSizeInKB: 6\nloggingEnabled: no\r\ndebuggingEnabled: yes'), {
    maxLogFiles: 5,
    maxTotalLogFileSizeInKB: 6,
    loggingEnabled: false,
    debuggingEnabled: true,
  });
  failsAt('maxLogFiles: 5\r\n\r\nbroken', 3);
  failsAt('a: 1\rb: 2\rbroken', 3);
});

test('a line without a colon is an error', () => {
  failsAt('maxLogFiles 5', 1);
  failsAt('# fine\nloggingEnabled', 2);
  failsAt('foo   ', 1);
});

test('a colon as the first non-space character is an error', () => {
  failsAt(': foo', 1);
  failsAt('\n   : bar', 2);
});

test('anything but spaces between the key and the colon is an error', () => {
  const error = failsAt('a b: c', 1);
  assert.match(error.message, /'a'/);
  failsAt('maxLogFiles x: 5', 1);
});

test('colons inside the value are kept', () => {
  assert.deepEqual(values('nodeProcessCommandLine: C:\\node\\node.exe --x=a:b'), { nodeProcessCommandLine: 'C:\\node\\node.exe --x=a:b' });
});

test('a # inside a value starts a comment', () => {
  assert.deepEqual(values('logDirectory: logs#1'), { logDirectory: 'logs' });
});

test('an empty value leaves the setting unchanged, even for an unknown key or a bad bool', () => {
  assert.deepEqual(values('maxLogFiles:'), {});
  assert.deepEqual(values('loggingEnabled:     # nothing'), {});
  assert.deepEqual(values('maxLogFiles: 5\nmaxLogFiles:'), { maxLogFiles: 5 });
});

test('unknown keys are ignored, whatever their value', () => {
  assert.deepEqual(values('idontexist: 12\nfoo: bar: baz\nmaxLogFiles: 1'), { maxLogFiles: 1 });
});

test('keys are case-insensitive; a later line wins', () => {
  assert.deepEqual(values('MAXLOGFILES: 1\nmaxlogfiles: 2'), { maxLogFiles: 2 });
  assert.deepEqual(values('NODE_ENV: staging'), { node_env: 'staging' });
});

test('tabs are not white space: they become part of the key or the value', () => {
  // "\tmaxLogFiles" is an unknown key and is ignored.
  assert.deepEqual(values('\tmaxLogFiles: 5'), {});
  assert.deepEqual(values('maxLogFiles\t: 5'), {});
  // A tab inside a bool value makes it invalid; a number read by atol skips it.
  failsAt('loggingEnabled: false\t', 1);
  assert.deepEqual(values('maxLogFiles:\t7'), { maxLogFiles: 7 });
  assert.deepEqual(values('logDirectory: a\t'), { logDirectory: 'a\t' });
});

test('booleans: true/1/yes/false/0/no in any case; anything else is an error', () => {
  assert.deepEqual(values('loggingEnabled: TRUE\ndebuggingEnabled: 0\nenableXFF: Yes\nflushResponse: NO\ndevErrorsEnabled: 1\ndebugHeaderEnabled: False'), {
    loggingEnabled: true,
    debuggingEnabled: false,
    enableXFF: true,
    flushResponse: false,
    devErrorsEnabled: true,
    debugHeaderEnabled: false,
  });
  const error = failsAt('\nloggingEnabled: foobar', 2);
  assert.match(error.message, /loggingEnabled/);
  assert.match(error.message, /foobar/);
  failsAt('enableXFF: on', 1);
});

test('numbers are read like C atol', () => {
  assert.deepEqual(values('nodeProcessCountPerApplication: 12abc'), { nodeProcessCountPerApplication: 12 });
  assert.deepEqual(values('nodeProcessCountPerApplication: abc'), { nodeProcessCountPerApplication: 0 });
  assert.deepEqual(values('maxConcurrentRequestsPerProcess: Infinite'), { maxConcurrentRequestsPerProcess: 0 });
});

test('strings are verbatim, quotes included', () => {
  assert.deepEqual(values('nodeProcessCommandLine: "/opt/my node/bin/node" --inspect'), { nodeProcessCommandLine: '"/opt/my node/bin/node" --inspect' });
  assert.deepEqual(values("promoteServerVars: 'AUTH_USER,REMOTE_ADDR'"), { promoteServerVars: "'AUTH_USER,REMOTE_ADDR'" });
});

test('%VAR% is expanded only in logDirectory, node_env, watchedFiles, nodeProcessCommandLine and interceptor', () => {
  assert.deepEqual(
    values('logDirectory: %home%/logs\nnode_env: %NODE_ENV%\nwatchedFiles: %x%;*.js\nnodeProcessCommandLine: %HOME%/node\ninterceptor: %home%/i.js'),
    {
      logDirectory: '/home/u/logs',
      node_env: 'production',
      watchedFiles: '%x%;*.js',
      nodeProcessCommandLine: '/home/u/node',
      interceptor: '/home/u/i.js',
    },
  );
  assert.deepEqual(values('debugPortRange: %HOME%\ndebuggerPathSegment: %HOME%\npromoteServerVars: %HOME%'), {
    debuggerPortRange: '%HOME%',
    debuggerPathSegment: '%HOME%',
    promoteServerVars: '%HOME%',
  });
});

test("debuggerPortRange is set through the debugPortRange key; the sample's debuggerPortRange line is ignored", () => {
  assert.deepEqual(values('debuggerPortRange: 1-2'), {});
  assert.deepEqual(values('debugPortRange: 7000-7010'), { debuggerPortRange: '7000-7010' });
});

test('configOverrides cannot be set from iisnode.yml', () => {
  assert.deepEqual(values('configOverrides: other.yml'), {});
});

test('the line of each value is recorded; a UTF-8 byte order mark is dropped', () => {
  const parsed = parseIisnodeYml('\ufeffmaxLogFiles: 1\n\nloggingEnabled: false', FILE, ENV);
  assert.deepEqual(parsed.lines, { maxLogFiles: 1, loggingEnabled: 3 });
});

test('one error fails the whole file', () => {
  failsAt('maxLogFiles: 5\nloggingEnabled: maybe\nmaxTotalLogFileSizeInKB: 9', 2);
});

test('readIisnodeYml: a missing file or folder means no overrides; a folder in its place is an error', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'nodehost-yml-'));
  assert.equal(readIisnodeYml(path.join(dir, 'iisnode.yml'), ENV), undefined);
  assert.equal(readIisnodeYml(path.join(dir, 'missing', 'iisnode.yml'), ENV), undefined);
  writeFileSync(path.join(dir, 'iisnode.yml'), 'maxLogFiles: 3\n');
  assert.deepEqual(readIisnodeYml(path.join(dir, 'iisnode.yml'), ENV)?.values, { maxLogFiles: 3 });
  writeFileSync(path.join(dir, 'empty.yml'), '');
  assert.deepEqual(readIisnodeYml(path.join(dir, 'empty.yml'), ENV)?.values, {});
  mkdirSync(path.join(dir, 'dir.yml'));
  assert.throws(
    () => readIisnodeYml(path.join(dir, 'dir.yml'), ENV),
    (err: unknown) => err instanceof NodehostError && err.code === 'NH_ERR_CONFIG_YML',
  );
});
