import assert from 'node:assert/strict';
import { OutgoingMessage, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { test } from 'node:test';
import { FastResponse, type ResponseOwner } from './fast-response.js';

const OWNER: ResponseOwner = { onResponseFinished: () => undefined };

function fastResponse(): FastResponse {
  const socket = { writableLength: 0, write: () => true, cork() {}, uncork() {}, destroy() {} };
  return new FastResponse({ method: 'GET' } as IncomingMessage, socket as unknown as Socket, OWNER, true, 5000);
}

/** errorOf is what `set` throws (its code and message), or undefined. */
function errorOf(set: () => unknown): { code: unknown; message: string } | undefined {
  try {
    set();
    return undefined;
  } catch (err) {
    return { code: (err as NodeJS.ErrnoException).code, message: (err as Error).message };
  }
}

test('setHeader and appendHeader accept and refuse exactly what node refuses, with its errors', () => {
  const names: unknown[] = ['X-Ok', 'x', "!#$%&'*+-.^_`|~", '', 'Bad Name', 'X:', 'X-\u00e9', 'X-\u0100', 42, undefined];
  const values: unknown[] = ['ok', '', 'tab\there', 'obs\x80\xff', 'a\r\nb', 'del\x7f', '\x00', 'wide\u0100', 7, ['a', 'b'], ['a', 'b\nc'], undefined];
  for (const name of names) {
    for (const value of values) {
      const label = `${JSON.stringify(name)}: ${JSON.stringify(value)}`;
      const expected = errorOf(() => new OutgoingMessage().setHeader(name as string, value as string));
      assert.deepEqual(
        errorOf(() => fastResponse().setHeader(name as string, value as string)),
        expected,
        `setHeader ${label}`,
      );
      if (value !== undefined && typeof value !== 'number') {
        const appended = errorOf(() => new OutgoingMessage().appendHeader(name as string, value as string));
        assert.deepEqual(
          errorOf(() => fastResponse().appendHeader(name as string, value as string)),
          appended,
          `appendHeader ${label}`,
        );
      }
    }
  }
});
