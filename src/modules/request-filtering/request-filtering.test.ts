import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { FolderConfig, IisnodeSettings } from '../../config/types.js';
import { RequestContext } from '../../http/request-context.js';
import { errorStep } from '../../pipeline/error-step.js';
import type { Outcome } from '../../http/pipeline-module.js';
import { fetchLocalText, useContextServer, type LocalTextReply } from '../testing/context-server.test-helper.js';
import { isHiddenPath } from './is-hidden-path.js';
import { requestFiltering } from './request-filtering.js';

const IIS_DEFAULTS = new Set(['web.config', 'bin', 'app_code', 'app_globalresources', 'app_localresources', 'app_webreferences', 'app_data', 'app_browsers']);
const NONE: ReadonlySet<string> = new Set();

describe('isHiddenPath', () => {
  test('any segment equal to a hidden segment, case-insensitively', () => {
    for (const path of ['/bin', '/bin/', '/bin/x.dll', '/a/bin/x', '/BIN/x', '/App_Data/db.mdf', '/a/app_data']) {
      assert.equal(isHiddenPath(path, IIS_DEFAULTS), true, path);
    }
  });

  test('whole segments only', () => {
    for (const path of ['/', '/binaries/x', '/a/bin.txt', '/xbin', '/app_data_old/x', '/web.config.txt', '/a/b/c.html']) {
      assert.equal(isHiddenPath(path, IIS_DEFAULTS), false, path);
    }
  });

  test('only the configured names are hidden: node_modules, iisnode.yml and dot-segments are left to the static handler', () => {
    for (const path of ['/node_modules/x/package.json', '/iisnode.yml', '/.git/config', '/.env', '/a/.npmrc']) {
      assert.equal(isHiddenPath(path, IIS_DEFAULTS), false, path);
    }
    for (const path of ['/web.config', '/Web.Config', '/sub/web.config']) assert.equal(isHiddenPath(path, IIS_DEFAULTS), true, path);
    assert.equal(isHiddenPath('/web.config', NONE), false, 'a <remove> of web.config takes it off the list');
  });

  test('names of every length are found, and a segment that lower-casing makes longer (U+0130) too', () => {
    const long = 'a'.repeat(40);
    const names = new Set([long, 'i\u0307x', 'x']);
    for (const path of [`/${long}`, `/a/${long.toUpperCase()}/b`, '/\u0130x', '/X']) assert.equal(isHiddenPath(path, names), true, path);
    for (const path of [`/${long}a`, '/ix', '/xx', `/${'a'.repeat(39)}`]) assert.equal(isHiddenPath(path, names), false, path);
  });

  test('a site that adds node_modules hides it, in any case', () => {
    const withNodeModules = new Set([...IIS_DEFAULTS, 'node_modules']);
    for (const path of ['/node_modules/x/package.json', '/a/Node_Modules/b', '/NODE_MODULES']) assert.equal(isHiddenPath(path, withNodeModules), true, path);
    assert.equal(isHiddenPath('/node_modules_old/x', withNodeModules), false);
  });

  test('dot-segments are hidden only when listed', () => {
    assert.equal(isHiddenPath('/.well-known/x', new Set(['.well-known'])), true);
    assert.equal(isHiddenPath('/.git/HEAD', new Set(['.git'])), true);
    assert.equal(isHiddenPath('/.github/x', new Set(['.git'])), false);
  });

  test('a bare segment without slashes is checked as one segment', () => {
    assert.equal(isHiddenPath('web.config', IIS_DEFAULTS), true);
    assert.equal(isHiddenPath('index.html', IIS_DEFAULTS), false);
  });
});

// The module against a real server: the handler runs the filter step, and answers 200 itself
// when the request passes.

function folderConfig(hiddenSegments: ReadonlySet<string>): FolderConfig {
  return {
    handlers: [],
    defaultDocument: { enabled: true, files: [] },
    mimeMap: new Map(),
    hiddenSegments,
    appSettings: [],
    iisnode: {} as IisnodeSettings,
    iisnodeSources: {},
    errors: [],
  };
}

let config: FolderConfig | undefined = folderConfig(IIS_DEFAULTS);
let lastContext: RequestContext | undefined;
let lastOutcome: Outcome | undefined;

const server = useContextServer((req, res) => {
  const ctx = new RequestContext(req, res, { root: '/nonexistent', name: 'test' }, false, errorStep);
  const raw = req.url ?? '/';
  const q = raw.indexOf('?');
  ctx.path = decodeURIComponent(q === -1 ? raw : raw.slice(0, q));
  ctx.config = config;
  lastContext = ctx;
  lastOutcome = requestFiltering.handle(ctx) as Outcome;
  if (lastOutcome === 'continue') res.end('passed');
  // The engine's part: an error outcome is answered by the error step.
  else if (typeof lastOutcome === 'object') ctx.sendError(lastOutcome);
});

function fetch(path: string, method = 'GET'): Promise<LocalTextReply> {
  return fetchLocalText(server.port, path, { method });
}

describe('requestFiltering module', () => {
  test('is a filter-phase module', () => {
    assert.equal(requestFiltering.phase, 'filter');
    assert.equal(requestFiltering.id, 'request-filtering');
  });

  test('a hidden segment is 404.8 with a plain page that does not say why', async () => {
    const reply = await fetch('/App_Data/users.db');
    assert.equal(reply.status, 404);
    assert.match(reply.headers['content-type'] ?? '', /^text\/html/);
    assert.match(reply.body, /<title>404 - Not Found<\/title>/);
    assert.doesNotMatch(reply.body, /hidden|App_Data|404\.8/i);
    assert.equal(typeof lastOutcome === 'object' && lastOutcome.error.code, 'NH_ERR_FILTER_HIDDEN_SEGMENT');
    assert.equal(lastContext!.status, 404);
    assert.equal(lastContext!.substatus, 8);
  });

  test('percent-encoded names are caught after decoding', async () => {
    assert.equal((await fetch('/%62in/x')).status, 404);
    assert.equal((await fetch('/App%5FData/x')).status, 404);
  });

  test('allowed paths continue', async () => {
    for (const path of ['/', '/index.html', '/binaries/x', '/.well-known/acme-challenge/abc']) {
      const reply = await fetch(path);
      assert.equal(reply.status, 200, path);
      assert.equal(lastOutcome, 'continue');
    }
  });

  test('names the static handler never serves pass request filtering, so rewrite rules still see them', async () => {
    for (const path of ['/node_modules/express/package.json', '/iisnode.yml', '/.env', '/.git/HEAD']) {
      assert.equal((await fetch(path)).status, 200, path);
      assert.equal(lastOutcome, 'continue');
    }
  });

  test('an empty list, or no configuration, hides nothing', async () => {
    for (const next of [folderConfig(NONE), undefined]) {
      config = next;
      try {
        for (const path of ['/web.config', '/bin/x', '/node_modules/x.js']) assert.equal((await fetch(path)).status, 200, path);
      } finally {
        config = folderConfig(IIS_DEFAULTS);
      }
    }
  });

  test('HEAD gets the 404 without a body', async () => {
    const reply = await fetch('/web.config', 'HEAD');
    assert.equal(reply.status, 404);
    assert.equal(reply.body, '');
  });
});
