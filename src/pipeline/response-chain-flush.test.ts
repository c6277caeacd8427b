// The response chain's streaming contract: pieces transformed in order, Content-Length dropped,
// and a filter's held-back bytes flushed when the writer pauses (StreamingBodyFilter.flush).
import assert from 'node:assert/strict';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { RequestContext, type ErrorResponder } from '../http/request-context.js';
import type { ResponseFilter, StreamingBodyFilter } from '../http/response-filter.js';
import { ResponseChain } from './response-chain.js';

const EMPTY = Buffer.alloc(0);
const NO_ERRORS: ErrorResponder = { respond: () => undefined };

/** HoldingFilter keeps every piece back until flush or end, upper-casing it. */
function holdingFilter(): ResponseFilter {
  return {
    id: 'holding',
    wants: () => true,
    open: (): StreamingBodyFilter => {
      let held: Buffer[] = [];
      const take = (): Buffer => {
        const out = Buffer.from(Buffer.concat(held).toString().toUpperCase());
        held = [];
        return out;
      };
      return {
        mode: 'stream',
        write: (chunk) => {
          held.push(chunk);
          return EMPTY;
        },
        flush: take,
        end: take,
      };
    },
  };
}

test('held-back bytes reach the client when the writer pauses, before the end', async () => {
  const chain = new ResponseChain([holdingFilter()]);
  let finish: (() => void) | undefined;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const ctx = new RequestContext(req, res, { root: '/', name: 'test' }, false, NO_ERRORS);
    chain.attach(ctx);
    res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': '11' });
    res.write('hello ');
    finish = () => res.end('world');
  }).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  try {
    const res = await new Promise<IncomingMessage>((resolve, reject) => {
      request({ port: (server.address() as AddressInfo).port, host: '127.0.0.1', agent: false }, resolve)
        .on('error', reject)
        .end();
    });
    assert.equal(res.headers['content-length'], undefined);
    assert.equal(res.headers['transfer-encoding'], 'chunked');
    let text = '';
    await new Promise<void>((resolve) => {
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        if (text === 'HELLO ') {
          // The first piece arrived while the handler still holds the response open.
          finish!();
        }
      });
      res.on('end', resolve);
    });
    assert.equal(text, 'HELLO WORLD');
  } finally {
    server.close();
  }
});
