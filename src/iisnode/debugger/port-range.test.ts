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
    const busy = net.createServer();
    await new Promise<void>((resolve) => busy.listen(39251, '127.0.0.1', resolve));
    try {
      const ports = new PortAllocator();
      const range = { first: 39250, last: 39252 };
      assert.equal(await ports.next(range), 39250);
      assert.equal(await ports.next(range), 39252);
      assert.equal(await ports.next(range), 39250);
    } finally {
      busy.close();
    }
  });

  it('adds the inspector flag after the executable', () => {
    assert.equal(withNodeFlag('node --max-old-space-size=64', '--inspect=127.0.0.1:1'), 'node --max-old-space-size=64 --inspect=127.0.0.1:1');
    assert.match(withNodeFlag('', '--inspect-brk=127.0.0.1:1'), /^".+" --inspect-brk=127\.0\.0\.1:1$/);
  });
});
