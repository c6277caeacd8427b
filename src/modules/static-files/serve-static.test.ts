import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readlinkSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import type { FolderConfig, IisnodeSettings } from '../../config/types.js';
import type { RequestContext } from '../../http/request-context.js';
import { fetchLocal, staticContext, useContextServer, type FetchOptions, type LocalReply } from '../testing/context-server.test-helper.js';
import { sendFileBody } from './send-file-body.js';
import { serveStatic } from './serve-static.js';
import { handleStaticFiles, staticFiles } from './static-files.js';

// Fixture: a site folder and a real HTTP server whose handler builds a RequestContext the way
// the engine will (path, query, physical path, configuration, handler) and calls `onContext`.

const root = mkdtempSync(join(tmpdir(), 'nodehost-static-'));
const SMALL = 'hello, static world\n';
writeFileSync(join(root, 'site.css'), 'body { color: red }\n');
writeFileSync(join(root, 'upper.CSS'), 'p {}\n');
writeFileSync(join(root, 'hello.txt'), SMALL);
writeFileSync(join(root, 'README'), 'no extension\n');
writeFileSync(join(root, 'app.yml'), 'secret: 1\n');
writeFileSync(join(root, 'empty.txt'), '');
mkdirSync(join(root, 'folder.txt'));
// Files the static handler never serves, whatever the configuration.
mkdirSync(join(root, 'node_modules/pkg'), { recursive: true });
writeFileSync(join(root, 'node_modules/pkg/index.txt'), 'package source\n');
mkdirSync(join(root, 'sub/Node_Modules'), { recursive: true });
writeFileSync(join(root, 'sub/Node_Modules/x.txt'), 'package source\n');
mkdirSync(join(root, '.git'));
writeFileSync(join(root, '.git/config.txt'), 'repository\n');
writeFileSync(join(root, '.env.txt'), 'SECRET=1\n');
writeFileSync(join(root, 'web.config'), '<configuration/>\n');
writeFileSync(join(root, 'iisnode.yml'), 'node_env: x\n');
mkdirSync(join(root, '.well-known'));
writeFileSync(join(root, '.well-known/security.txt'), 'Contact: x\n');
const BIG_SIZE = 4 * 1024 * 1024 + 17;
const big = Buffer.alloc(BIG_SIZE);
for (let i = 0; i < BIG_SIZE; i++) big[i] = i % 251;
writeFileSync(join(root, 'big.bin'), big);
const HUGE_SIZE = 64 * 1024 * 1024;
writeFileSync(join(root, 'huge.bin'), Buffer.alloc(HUGE_SIZE, 7));
// A fixed mtime makes Last-Modified predictable.
const MTIME = new Date('2024-03-01T10:20:30.250Z');
utimesSync(join(root, 'hello.txt'), MTIME, MTIME);

const MIME = new Map([
  ['.css', 'text/css'],
  ['.txt', 'text/plain'],
  ['.bin', 'application/octet-stream'],
]);

function folderConfig(mimeMap: ReadonlyMap<string, string>): FolderConfig {
  return {
    handlers: [],
    defaultDocument: { enabled: true, files: ['index.html'] },
    mimeMap,
    hiddenSegments: new Set(),
    appSettings: [],
    iisnode: {} as IisnodeSettings,
    iisnodeSources: {},
    errors: [],
  };
}

let config = folderConfig(MIME);
let onContext: (ctx: RequestContext) => Promise<unknown> = serveStatic;
let lastContext: RequestContext | undefined;
let lastServed: Promise<unknown> = Promise.resolve();

function contextFor(req: IncomingMessage, res: ServerResponse): RequestContext {
  return staticContext(req, res, root, config, false);
}

const server = useContextServer((req, res) => {
  lastContext = contextFor(req, res);
  lastServed = onContext(lastContext);
});
after(() => rmSync(root, { recursive: true, force: true }));

/** fetch sends one request to the fixture server and reads the body as bytes. */
function fetch(path: string, options: FetchOptions = {}): Promise<LocalReply> {
  return fetchLocal(server.port, path, options);
}

/** served waits for the handler of the last request and returns its context. */
async function served(): Promise<RequestContext> {
  await lastServed;
  return lastContext!;
}

describe('serveStatic: 200 and headers', () => {
  test('serves a file with Content-Type from the mimeMap, no charset, and the validators', async () => {
    const reply = await fetch('/hello.txt');
    assert.equal(reply.status, 200);
    assert.equal(reply.body.toString(), SMALL);
    assert.equal(reply.headers['content-type'], 'text/plain');
    assert.equal(reply.headers['content-length'], String(SMALL.length));
    assert.equal(reply.headers['last-modified'], 'Fri, 01 Mar 2024 10:20:30 GMT');
    assert.equal(reply.headers['accept-ranges'], 'bytes');
    assert.match(reply.headers.etag ?? '', /^"[0-9a-f]+-[0-9a-f]+"$/);
    const ctx = await served();
    assert.equal(ctx.status, 200);
    assert.equal(ctx.substatus, 0);
  });

  test('the extension is matched lower-cased', async () => {
    const reply = await fetch('/upper.CSS');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-type'], 'text/css');
  });

  test('an empty file is 200 with Content-Length 0', async () => {
    const reply = await fetch('/empty.txt');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-length'], '0');
    assert.equal(reply.body.length, 0);
  });

  test('a large file arrives intact', async () => {
    const reply = await fetch('/big.bin');
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-length'], String(BIG_SIZE));
    assert.ok(reply.body.equals(big));
  });

  test('the ETag is stable, and changes with the file', async () => {
    const first = await fetch('/site.css');
    const second = await fetch('/site.css');
    assert.equal(first.headers.etag, second.headers.etag);
    const later = new Date('2030-01-01T00:00:00Z');
    utimesSync(join(root, 'site.css'), later, later);
    const third = await fetch('/site.css');
    assert.notEqual(third.headers.etag, first.headers.etag);
  });
});

describe('serveStatic: refusals', () => {
  test('a missing file is 404.0', async () => {
    const reply = await fetch('/missing.txt');
    assert.equal(reply.status, 404);
    assert.match(reply.body.toString(), /404 - Not Found/);
    const ctx = await served();
    assert.equal(ctx.status, 404);
    assert.equal(ctx.substatus, 0);
  });

  test('a directory is never streamed (404.0)', async () => {
    const reply = await fetch('/folder.txt');
    assert.equal(reply.status, 404);
    assert.equal((await served()).substatus, 0);
  });

  test('a file URL with a trailing slash is 404', async () => {
    const reply = await fetch('/hello.txt/');
    assert.equal(reply.status, 404);
  });

  test('an extension without a mimeMap entry is 404.3, and the body says nothing more than 404', async () => {
    const reply = await fetch('/app.yml');
    assert.equal(reply.status, 404);
    assert.doesNotMatch(reply.body.toString(), /mime|404\.3|yml/i);
    const ctx = await served();
    assert.equal(ctx.substatus, 3);
  });

  test('an extensionless file needs the "." entry', async () => {
    assert.equal((await fetch('/README')).status, 404);
    assert.equal((await served()).substatus, 3);
    config = folderConfig(new Map([...MIME, ['.', 'text/plain']]));
    try {
      const reply = await fetch('/README');
      assert.equal(reply.status, 200);
      assert.equal(reply.headers['content-type'], 'text/plain');
    } finally {
      config = folderConfig(MIME);
    }
  });

  test('the "*" entry maps every other extension, and a specific entry still wins', async () => {
    config = folderConfig(
      new Map([
        ['*', 'application/octet-stream'],
        ['.css', 'text/css'],
      ]),
    );
    try {
      assert.equal((await fetch('/app.yml')).headers['content-type'], 'application/octet-stream');
      assert.equal((await fetch('/README')).headers['content-type'], 'application/octet-stream');
      assert.equal((await fetch('/site.css')).headers['content-type'], 'text/css');
    } finally {
      config = folderConfig(MIME);
    }
  });

  test('node_modules, web.config, iisnode.yml and dot-files are 404.0, even with a "*" mimeMap entry', async () => {
    config = folderConfig(new Map([...MIME, ['*', 'application/octet-stream']]));
    try {
      for (const path of ['/node_modules/pkg/index.txt', '/sub/Node_Modules/x.txt', '/.git/config.txt', '/.env.txt', '/web.config', '/iisnode.yml']) {
        for (const method of ['GET', 'HEAD', 'POST']) {
          const reply = await fetch(path, { method });
          assert.equal(reply.status, 404, `${method} ${path}`);
          assert.equal(reply.headers.allow, undefined, 'no 405: the URL is refused before the method');
          assert.equal(reply.headers.etag, undefined, 'nothing about the file leaks');
          assert.doesNotMatch(reply.body.toString(), /package source|repository|SECRET|configuration|node_env/);
          const ctx = await served();
          assert.equal(ctx.status, 404);
          assert.equal(ctx.substatus, 0);
        }
      }
      assert.equal((await fetch('/.well-known/security.txt')).status, 200);
    } finally {
      config = folderConfig(MIME);
    }
  });

  test('methods other than GET and HEAD are 405 with Allow', async () => {
    for (const method of ['POST', 'PUT', 'DELETE', 'OPTIONS']) {
      const reply = await fetch('/hello.txt', { method });
      assert.equal(reply.status, 405, method);
      assert.equal(reply.headers.allow, 'GET, HEAD');
    }
  });
});

describe('serveStatic: HEAD', () => {
  test('HEAD has the headers of GET and no body', async () => {
    const get = await fetch('/hello.txt');
    const head = await fetch('/hello.txt', { method: 'HEAD' });
    assert.equal(head.status, 200);
    assert.equal(head.body.length, 0);
    for (const name of ['content-type', 'content-length', 'last-modified', 'etag', 'accept-ranges']) {
      assert.equal(head.headers[name], get.headers[name], name);
    }
  });

  test('HEAD of a missing file is 404 without a body', async () => {
    const head = await fetch('/missing.txt', { method: 'HEAD' });
    assert.equal(head.status, 404);
    assert.equal(head.body.length, 0);
  });
});

describe('serveStatic: conditional requests', () => {
  async function etagOf(path: string): Promise<string> {
    return (await fetch(path)).headers.etag!;
  }

  test('If-None-Match with the current ETag is 304 without a body', async () => {
    const etag = await etagOf('/hello.txt');
    const reply = await fetch('/hello.txt', { headers: { 'If-None-Match': etag } });
    assert.equal(reply.status, 304);
    assert.equal(reply.body.length, 0);
    assert.equal(reply.headers.etag, etag);
    assert.equal((await served()).status, 304);
  });

  test('If-None-Match compares weakly, reads lists, and takes *', async () => {
    const etag = await etagOf('/hello.txt');
    assert.equal((await fetch('/hello.txt', { headers: { 'If-None-Match': `"x", W/${etag}` } })).status, 304);
    assert.equal((await fetch('/hello.txt', { headers: { 'If-None-Match': `"a,b",${etag}` } })).status, 304);
    assert.equal((await fetch('/hello.txt', { headers: { 'If-None-Match': '*' } })).status, 304);
    assert.equal((await fetch('/hello.txt', { headers: { 'If-None-Match': '"other"' } })).status, 200);
  });

  test('If-Modified-Since at or after Last-Modified is 304, before it 200', async () => {
    const lastModified = 'Fri, 01 Mar 2024 10:20:30 GMT';
    assert.equal((await fetch('/hello.txt', { headers: { 'If-Modified-Since': lastModified } })).status, 304);
    assert.equal((await fetch('/hello.txt', { headers: { 'If-Modified-Since': 'Sat, 02 Mar 2024 00:00:00 GMT' } })).status, 304);
    assert.equal((await fetch('/hello.txt', { headers: { 'If-Modified-Since': 'Fri, 01 Mar 2024 10:20:29 GMT' } })).status, 200);
    assert.equal((await fetch('/hello.txt', { headers: { 'If-Modified-Since': 'not a date' } })).status, 200);
  });

  test('If-Modified-Since is ignored when If-None-Match is present', async () => {
    const reply = await fetch('/hello.txt', { headers: { 'If-None-Match': '"other"', 'If-Modified-Since': 'Sat, 02 Mar 2024 00:00:00 GMT' } });
    assert.equal(reply.status, 200);
  });

  test('If-Match that fails and If-Unmodified-Since before Last-Modified are 412', async () => {
    const etag = await etagOf('/hello.txt');
    assert.equal((await fetch('/hello.txt', { headers: { 'If-Match': '"other"' } })).status, 412);
    assert.equal((await fetch('/hello.txt', { headers: { 'If-Match': `W/${etag}` } })).status, 412);
    assert.equal((await fetch('/hello.txt', { headers: { 'If-Match': etag } })).status, 200);
    assert.equal((await fetch('/hello.txt', { headers: { 'If-Unmodified-Since': 'Thu, 29 Feb 2024 00:00:00 GMT' } })).status, 412);
    assert.equal((await fetch('/hello.txt', { headers: { 'If-Unmodified-Since': 'Fri, 01 Mar 2024 10:20:30 GMT' } })).status, 200);
  });
});

describe('serveStatic: ranges', () => {
  const size = SMALL.length;

  test('bytes=a-b is 206 with Content-Range', async () => {
    const reply = await fetch('/hello.txt', { headers: { Range: 'bytes=0-4' } });
    assert.equal(reply.status, 206);
    assert.equal(reply.body.toString(), 'hello');
    assert.equal(reply.headers['content-range'], `bytes 0-4/${size}`);
    assert.equal(reply.headers['content-length'], '5');
    assert.equal((await served()).status, 206);
  });

  test('bytes=a- and bytes=-n and an end past the file', async () => {
    let reply = await fetch('/hello.txt', { headers: { Range: 'bytes=7-' } });
    assert.equal(reply.status, 206);
    assert.equal(reply.body.toString(), SMALL.slice(7));
    assert.equal(reply.headers['content-range'], `bytes 7-${size - 1}/${size}`);
    reply = await fetch('/hello.txt', { headers: { Range: 'bytes=-6' } });
    assert.equal(reply.status, 206);
    assert.equal(reply.body.toString(), SMALL.slice(-6));
    reply = await fetch('/hello.txt', { headers: { Range: 'bytes=-1000' } });
    assert.equal(reply.status, 206);
    assert.equal(reply.body.toString(), SMALL);
    reply = await fetch('/hello.txt', { headers: { Range: 'BYTES=2-1000' } });
    assert.equal(reply.status, 206);
    assert.equal(reply.headers['content-range'], `bytes 2-${size - 1}/${size}`);
  });

  test('a range in the middle of a large file', async () => {
    const reply = await fetch('/big.bin', { headers: { Range: 'bytes=1000000-1999999' } });
    assert.equal(reply.status, 206);
    assert.ok(reply.body.equals(big.subarray(1000000, 2000000)));
  });

  test('an unsatisfiable range is 416 with Content-Range bytes */size', async () => {
    for (const range of [`bytes=${size}-`, 'bytes=1000-2000', 'bytes=-0']) {
      const reply = await fetch('/hello.txt', { headers: { Range: range } });
      assert.equal(reply.status, 416, range);
      assert.equal(reply.headers['content-range'], `bytes */${size}`);
    }
    const empty = await fetch('/empty.txt', { headers: { Range: 'bytes=0-' } });
    assert.equal(empty.status, 416);
    assert.equal(empty.headers['content-range'], 'bytes */0');
  });

  test('several ranges get the whole file with 200', async () => {
    const reply = await fetch('/hello.txt', { headers: { Range: 'bytes=0-1,3-4' } });
    assert.equal(reply.status, 200);
    assert.equal(reply.body.toString(), SMALL);
    assert.equal(reply.headers['content-range'], undefined);
    // Empty list elements do not make a list.
    assert.equal((await fetch('/hello.txt', { headers: { Range: 'bytes=0-1, ,' } })).status, 206);
  });

  test('an invalid range or another unit is ignored (200)', async () => {
    for (const range of ['bytes=5-2', 'bytes=x-1', 'items=0-1', 'bytes=', 'bytes=-']) {
      assert.equal((await fetch('/hello.txt', { headers: { Range: range } })).status, 200, range);
    }
  });

  test('If-Range: the current ETag or Last-Modified keeps the range, anything else gets 200', async () => {
    const etag = (await fetch('/hello.txt')).headers.etag!;
    assert.equal((await fetch('/hello.txt', { headers: { Range: 'bytes=0-1', 'If-Range': etag } })).status, 206);
    assert.equal((await fetch('/hello.txt', { headers: { Range: 'bytes=0-1', 'If-Range': `W/${etag}` } })).status, 200);
    assert.equal((await fetch('/hello.txt', { headers: { Range: 'bytes=0-1', 'If-Range': '"other"' } })).status, 200);
    assert.equal((await fetch('/hello.txt', { headers: { Range: 'bytes=0-1', 'If-Range': 'Fri, 01 Mar 2024 10:20:30 GMT' } })).status, 206);
    assert.equal((await fetch('/hello.txt', { headers: { Range: 'bytes=0-1', 'If-Range': 'Fri, 01 Mar 2024 10:20:31 GMT' } })).status, 200);
  });

  test('HEAD ignores Range (RFC 9110 14.2)', async () => {
    const reply = await fetch('/hello.txt', { method: 'HEAD', headers: { Range: 'bytes=0-1' } });
    assert.equal(reply.status, 200);
    assert.equal(reply.headers['content-length'], String(size));
  });
});

/** openDescriptorsOf lists this process's file descriptors open on `path`. */
function openDescriptorsOf(path: string): string[] {
  const found: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) found.push(fd);
    } catch {
      // The descriptor of readdir itself is gone by now.
    }
  }
  return found;
}

describe('serveStatic: streaming failures', () => {
  test('a client that goes away closes the file', async () => {
    const path = join(root, 'huge.bin');
    const handled = new Promise<void>((resolve) => {
      onContext = async (ctx) => {
        await serveStatic(ctx);
        resolve();
      };
    });
    try {
      await new Promise<void>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port: server.port, path: '/huge.bin', agent: false }, (res) => {
          res.once('data', () => {
            assert.equal(openDescriptorsOf(path).length, 1);
            req.destroy();
            resolve();
          });
        });
        req.on('error', () => {});
        req.once('error', reject);
        req.end();
      });
      await handled;
      assert.deepEqual(openDescriptorsOf(path), []);
    } finally {
      onContext = serveStatic;
    }
  });

  test('a read error after the head cuts the response', async () => {
    onContext = async (ctx) => {
      ctx.res.setHeader('Content-Length', 100);
      ctx.res.flushHeaders();
      // Reading a directory fails with EISDIR once the head is out.
      await sendFileBody(ctx, await open(join(root, 'folder.txt'), 'r'), 0, 99);
    };
    try {
      const reply = await fetch('/whatever');
      assert.equal(reply.status, 200);
      assert.equal(reply.isCut, true);
      await lastServed;
    } finally {
      onContext = serveStatic;
    }
  });

  test('a file shorter than promised cuts the response instead of leaving the client waiting', async () => {
    onContext = async (ctx) => {
      ctx.res.setHeader('Content-Length', 100);
      await sendFileBody(ctx, await open(join(root, 'hello.txt'), 'r'), 0, 99);
    };
    try {
      const reply = await fetch('/whatever');
      assert.equal(reply.isCut, true);
      assert.equal(reply.body.toString(), SMALL);
      await lastServed;
      assert.deepEqual(openDescriptorsOf(join(root, 'hello.txt')), []);
    } finally {
      onContext = serveStatic;
    }
  });
});

describe('staticFiles module', () => {
  test('is an execute-phase module that passes on other handlers and finishes static ones', async () => {
    assert.equal(staticFiles.phase, 'execute');
    onContext = async (ctx) => {
      ctx.handler = 'iisnode';
      const passed = handleStaticFiles(ctx);
      ctx.handler = 'static';
      const finished = await staticFiles.handle(ctx);
      return [passed, finished];
    };
    try {
      const reply = await fetch('/hello.txt');
      assert.equal(reply.status, 200);
      assert.deepEqual(await lastServed, ['continue', 'finish']);
    } finally {
      onContext = serveStatic;
    }
  });
});
