import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FrameBoundary, closeFrame } from './frame-boundary.js';

function frame(payload: number, masked: boolean): Buffer {
  const len =
    payload < 126 ? [payload] : payload < 65536 ? [126, payload >> 8, payload & 255] : [127, 0, 0, 0, 0, 0, payload >> 16, (payload >> 8) & 255, payload & 255];
  const head = Buffer.from([0x82, (masked ? 0x80 : 0) | len[0]!, ...len.slice(1), ...(masked ? [1, 2, 3, 4] : [])]);
  return Buffer.concat([head, Buffer.alloc(payload, 7)]);
}

describe('FrameBoundary', () => {
  it('tracks boundaries across small, 16-bit and 64-bit lengths, masked or not, fed byte by byte', () => {
    const stream = Buffer.concat([frame(5, false), frame(300, true), frame(70000, false)]);
    const ends = new Set([frame(5, false).length, frame(5, false).length + frame(300, true).length, stream.length]);
    const tracker = new FrameBoundary();
    for (let i = 0; i < stream.length; i++) {
      tracker.feed(stream.subarray(i, i + 1));
      assert.equal(tracker.isAtBoundary, ends.has(i + 1), `after byte ${i + 1}`);
    }
  });

  it('builds a close frame with code and reason', () => {
    assert.deepEqual([...closeFrame(1001, 'going away').subarray(0, 4)], [0x88, 12, 0x03, 0xe9]);
    assert.equal(closeFrame(1001, 'going away').subarray(4).toString(), 'going away');
  });
});
