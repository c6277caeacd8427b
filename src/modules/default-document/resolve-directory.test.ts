import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { FolderConfig, IisnodeSettings } from '../../config/types.js';
import type { RequestContext } from '../../http/request-context.js';
import { fetchLocalText, staticContext, useContextServer, type FetchOptions, type LocalTextReply } from '../testing/context-server.test-helper.js';
import { resolveDirectory, type DirectoryOutcome } from './resolve-directory.js';

// Fixture: a site folder and a real HTTP server whose handler builds a RequestContext the way
// the engine does and calls resolveDirectory. A 'document' outcome is answered with 200 and
// the outcome as JSON, standing in for the engine's re-mapping.

const root = mkdtempSync(join(tmpdir(), 'nodehost-defdoc-'));
function file(path: string): void {
  mkdirSync(join(root, path, '..'), { recursive: true });
  writeFileSync(join(root, path), path);
}
file('both/Default.htm');
file('both/index.html');
file('only-index/index.html');
file('lower/default.htm');
file('two-cases/Index.html');
file('two-cases/index.html');
mkdirSync(join(root, 'dir-named-default/Default.htm'), { recursive: true });
file('dir-named-default/index.html');
file('linked/target.html');
symlinkSync(join(root, 'linked/target.html'), join(root, 'linked/index.html'));
file('hidden/web.config');
file('node_modules/pkg/index.html');
file('.git/index.html');
file('dotdoc/.index.html');
mkdirSync(join(root, 'empty'));
mkdirSync(join(root, 'a b#c?d'));

const FILES = ['Default.htm', 'index.html'];

function folderConfig(defaultDocument: FolderConfig['defaultDocument']): FolderConfig {
  return {
    handlers: [],
    defaultDocument,
    mimeMap: new Map([['.html', 'text/html']]),
    hiddenSegments: new Set(['bin']),
    appSettings: [],
    iisnode: {} as IisnodeSettings,
    iisnodeSources: {},
    errors: [],
  };
}

let config = folderConfig({ enabled: true, files: FILES });
let isHttps = false;
let lastContext: RequestContext | undefined;
let lastResolved: Promise<DirectoryOutcome> | undefined;

function contextFor(req: IncomingMessage, res: ServerResponse): RequestContext {
  return staticContext(req, res, root, config, isHttps);
}

async function answer(ctx: RequestContext): Promise<DirectoryOutcome> {
  const outcome = await resolveDirectory(ctx);
  if (outcome.kind === 'document') ctx.res.end(JSON.stringify(outcome));
  return outcome;
}

const server = useContextServer((req, res) => {
  lastContext = contextFor(req, res);
  lastResolved = answer(lastContext);
});
after(() => rmSync(root, { recursive: true, force: true }));

/** fetch sends one request to the fixture server and reads the body as text. */
function fetch(path: string, options: FetchOptions = {}): Promise<LocalTextReply> {
  return fetchLocalText(server.port, path, options);
}

async function documentOf(path: string): Promise<DirectoryOutcome> {
  const reply = await fetch(path);
  assert.equal(reply.status, 200, `${path} found no default document`);
  return JSON.parse(reply.body) as DirectoryOutcome;
}

describe('resolveDirectory: courtesy redirect', () => {
  test('a directory URL without a slash is a 301 to an absolute URL, query kept', async () => {
    const reply = await fetch('/only-index?a=1&b=%20', { headers: { Host: 'example.test:8080' } });
    assert.equal(reply.status, 301);
    assert.equal(reply.headers.location, 'http://example.test:8080/only-index/?a=1&b=%20');
    assert.equal(reply.body, '');
    const ctx = lastContext!;
    assert.equal((await lastResolved)!.kind, 'finished');
    assert.equal(ctx.status, 301);
  });

  test('no query, an empty query, and https', async () => {
    assert.equal((await fetch('/only-index', { headers: { Host: 'example.test' } })).headers.location, 'http://example.test/only-index/');
    assert.equal((await fetch('/only-index?', { headers: { Host: 'example.test' } })).headers.location, 'http://example.test/only-index/?');
    isHttps = true;
    try {
      assert.equal((await fetch('/only-index', { headers: { Host: 'example.test' } })).headers.location, 'https://example.test/only-index/');
    } finally {
      isHttps = false;
    }
  });

  test('the path is percent-encoded again, including ? and #', async () => {
    const reply = await fetch('/a%20b%23c%3Fd', { headers: { Host: 'example.test' } });
    assert.equal(reply.headers.location, 'http://example.test/a%20b%23c%3Fd/');
  });

  test('a malformed Host header falls back to the local address', async () => {
    const reply = await fetch('/only-index', { headers: { Host: 'evil.test/phish?' } });
    assert.equal(reply.headers.location, `http://127.0.0.1:${server.port}/only-index/`);
  });

  test('a disabled defaultDocument answers 403.14 instead of redirecting', async () => {
    config = folderConfig({ enabled: false, files: FILES });
    try {
      const reply = await fetch('/only-index');
      assert.equal(reply.status, 403);
      assert.equal(reply.headers.location, undefined);
      assert.equal(lastContext!.substatus, 14);
    } finally {
      config = folderConfig({ enabled: true, files: FILES });
    }
  });
});

describe('resolveDirectory: default documents', () => {
  test('the first name of the list that exists wins', async () => {
    assert.deepEqual(await documentOf('/both/'), { kind: 'document', urlPath: '/both/Default.htm', physicalPath: join(root, 'both/Default.htm') });
    assert.deepEqual(await documentOf('/only-index/'), {
      kind: 'document',
      urlPath: '/only-index/index.html',
      physicalPath: join(root, 'only-index/index.html'),
    });
  });

  test('the list order decides, not the directory order', async () => {
    config = folderConfig({ enabled: true, files: ['index.html', 'Default.htm'] });
    try {
      assert.equal((await documentOf('/both/')).urlPath, '/both/index.html');
    } finally {
      config = folderConfig({ enabled: true, files: FILES });
    }
  });

  test('a case-insensitive match keeps the list spelling in the URL and the disk spelling in the path', async () => {
    assert.deepEqual(await documentOf('/lower/'), { kind: 'document', urlPath: '/lower/Default.htm', physicalPath: join(root, 'lower/default.htm') });
  });

  test('the exact spelling is preferred over other cases', async () => {
    assert.equal((await documentOf('/two-cases/')).physicalPath, join(root, 'two-cases/index.html'));
  });

  test('a directory with a candidate name is skipped; a symbolic link to a file counts', async () => {
    assert.equal((await documentOf('/dir-named-default/')).urlPath, '/dir-named-default/index.html');
    assert.equal((await documentOf('/linked/')).urlPath, '/linked/index.html');
  });

  test('the query string is not part of the document URL', async () => {
    assert.equal((await documentOf('/only-index/?x=1')).urlPath, '/only-index/index.html');
  });
});

describe('resolveDirectory: 403.14', () => {
  test('no candidate exists', async () => {
    const reply = await fetch('/empty/');
    assert.equal(reply.status, 403);
    assert.match(reply.body, /403 - Forbidden/);
    const ctx = lastContext!;
    assert.equal((await lastResolved)!.kind, 'finished');
    assert.equal(ctx.status, 403);
    assert.equal(ctx.substatus, 14);
  });

  test('defaultDocument disabled, or an empty list', async () => {
    for (const defaultDocument of [
      { enabled: false, files: FILES },
      { enabled: true, files: [] },
    ]) {
      config = folderConfig(defaultDocument);
      try {
        const reply = await fetch('/both/');
        assert.equal(reply.status, 403);
        assert.equal(lastContext!.substatus, 14);
      } finally {
        config = folderConfig({ enabled: true, files: FILES });
      }
    }
  });

  test('a hidden name in the list is never a default document', async () => {
    config = folderConfig({ enabled: true, files: ['web.config', 'bin', '../both/index.html'] });
    try {
      assert.equal((await fetch('/hidden/')).status, 403);
    } finally {
      config = folderConfig({ enabled: true, files: FILES });
    }
  });

  test('a folder the static handler never serves is 404.0, neither redirected nor searched', async () => {
    for (const path of ['/node_modules', '/node_modules/', '/node_modules/pkg', '/node_modules/pkg/', '/.git/']) {
      const reply = await fetch(path);
      assert.equal(reply.status, 404, path);
      assert.equal(reply.headers.location, undefined, path);
      assert.equal(lastContext!.substatus, 0);
    }
  });

  test('a never-served name in the list is never a default document', async () => {
    config = folderConfig({ enabled: true, files: ['.index.html', 'iisnode.yml', 'node_modules'] });
    try {
      assert.equal((await fetch('/dotdoc/')).status, 403);
    } finally {
      config = folderConfig({ enabled: true, files: FILES });
    }
  });

  test('HEAD gets no body', async () => {
    const reply = await fetch('/empty/', { method: 'HEAD' });
    assert.equal(reply.status, 403);
    assert.equal(reply.body, '');
  });

  test('a directory that vanished is 404', async () => {
    const reply = await fetch('/gone/');
    assert.equal(reply.status, 404);
  });
});
