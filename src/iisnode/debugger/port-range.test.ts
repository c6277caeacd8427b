import assert from 'node:assert/strict';
import net from 'node:net';
import { describe, it } from 'node:test';
import { PortAllocator, parsePortRange } from './port-range.js';
import { withNodeFlag } from './debugger-host.js';

describe('debugger ports', () => {
  it('parses N and N-M within 1025..65535', () => {
    assert.deepEqual(parsePortRange('5058-6058'), { first: 5058, last: 6058 });
    assert.deepEqual(parsePortRange('7000'), { first: 7000, last: 7000 });
    assert.equal(parsePortRange('80-90'), undefined);
    assert.equal(parsePortRange('6000-5000'), undefined);
    assert.equal(parsePortRange('x'), undefined);
  });

  it('hands out ports round robin and skips a busy one', async () => {
    // Below Linux's ephemeral range (32768-60999), so no client connection can hold these ports.
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(27351, '127.0.0.1', resolve));
    try {
      const ports = new PortAllocator();
      const range = { first: 27350, last: 27352 };
      assert.equal(await ports.next(range), 27350);
      assert.equal(await ports.next(range), 27352);
      assert.equal(await ports.next(range), 27350);
    } finally {
      busy.close();
    }
  });

  it('adds the inspector flag after the executable', () => {
    assert.equal(withNodeFlag('node --max-old-space-size=64', '--inspect=127.0.0.1:1'), 'node --max-old-space-size=64 --inspect=127.0.0.1:1');
    assert.match(withNodeFlag('', '--inspect-brk=127.0.0.1:1'), /^".+" --inspect-brk=127\.0\.0\.1:1$/);
  });
});
