import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { describe, it } from 'node:test';
import { StickyPolicy, readStickyIndex } from './sticky-sessions.js';

const req = (cookie?: string) => ({ headers: cookie === undefined ? {} : { cookie } }) as IncomingMessage;

describe('sticky sessions', () => {
  it('reads iisnode.session.cookie=<n> among other cookies', () => {
    assert.equal(readStickyIndex(req('a=1; iisnode.session.cookie=3; b=2')), 3);
    assert.equal(readStickyIndex(req('iisnode.session.cookie=0')), 0);
    assert.equal(readStickyIndex(req('xiisnode.session.cookie=1')), -1);
    assert.equal(readStickyIndex(req('iisnode.session.cookie=abc')), -1);
    assert.equal(readStickyIndex(req()), -1);
  });

  it('prefers n mod N, 503s when it is full, falls back to round robin when it is not ready', () => {
    const policy = new StickyPolicy();
    const workers = [
      { isReady: true, active: 0 },
      { isReady: true, active: 0 },
    ];
    policy.preferred = 3;
    assert.equal(policy.select(workers, 10), 1);
    assert.equal(
      policy.select(
        [
          { isReady: true, active: 0 },
          { isReady: true, active: 10 },
        ],
        10,
      ),
      -1,
    );
    assert.equal(
      policy.select(
        [
          { isReady: true, active: 0 },
          { isReady: false, active: 0 },
        ],
        10,
      ),
      0,
    );
  });
});
