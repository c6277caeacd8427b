// The response head parser and the chunked decoder across read boundaries: a worker's bytes
// arrive in pieces cut anywhere, so every response (and a keep-alive run of them: 1xx interim
// heads, bodies of each framing, bodies that contain head-like bytes) is fed split at every
// byte position, byte by byte, and in seeded random pieces, and must read exactly as when fed
// whole. The reader below drives the parser the way transport.ts does.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ChunkedDecoder, findHeadEnd, parseResponseHead, type ResponseHead, type HeadParseError } from './response-head-parser.js';

/** ReadResponse is one final response as the reader saw it. */
interface ReadResponse {
  readonly interim: readonly { statusCode: number; rawHeaders: string[] }[];
  readonly statusCode: number;
  readonly statusMessage: string;
  readonly rawHeaders: string[];
  readonly contentLength: number;
  readonly isChunked: boolean;
  readonly isClose: boolean;
  readonly keepAliveMs: number;
  readonly body: string;
}

const HEAD = 0;
const LENGTH = 1;
const CHUNKED = 2;
const UNTIL_CLOSE = 3;

/**
 * ResponseReader reads a connection's responses from pieces, as the forwarder does: the head
 * is searched again from three bytes before the end of what was already searched, interim 1xx
 * heads are kept and skipped, the body is framed by the method (HEAD), the status (204, 304),
 * chunking, Content-Length or the connection's end. `methods` gives the request method of
 * each response in order.
 */
class ResponseReader {
  readonly responses: ReadResponse[] = [];
  error: HeadParseError | 'bad-chunked' | undefined;
  #methods: readonly string[];
  #state = HEAD;
  #pending: Buffer | undefined;
  #interim: { statusCode: number; rawHeaders: string[] }[] = [];
  #head: ResponseHead | undefined;
  #body: Buffer[] = [];
  #remaining = 0;
  #decoder = new ChunkedDecoder();

  constructor(methods: readonly string[]) {
    this.#methods = methods;
  }

  push(piece: Buffer): void {
    let data = piece;
    let from = 0;
    while (this.error === undefined) {
      if (this.#state === HEAD) {
        let buf = data.subarray(from);
        let searchFrom = 0;
        if (this.#pending !== undefined) {
          searchFrom = Math.max(0, this.#pending.length - 3);
          buf = Buffer.concat([this.#pending, buf]);
          this.#pending = undefined;
        }
        if (buf.length === 0) return;
        const end = findHeadEnd(buf, searchFrom);
        if (end === -1) {
          this.#pending = buf;
          return;
        }
        const head = parseResponseHead(buf, end);
        if (typeof head === 'string') {
          this.error = head;
          return;
        }
        data = buf;
        from = end;
        if (head.statusCode < 200) {
          this.#interim.push({ statusCode: head.statusCode, rawHeaders: head.rawHeaders });
          continue;
        }
        this.#head = head;
        const method = this.#methods[this.responses.length] ?? 'GET';
        if (method === 'HEAD' || head.statusCode === 204 || head.statusCode === 304) {
          this.#finish();
        } else if (head.isChunked) {
          this.#decoder.reset();
          this.#state = CHUNKED;
        } else if (head.contentLength >= 0) {
          this.#remaining = head.contentLength;
          if (head.contentLength === 0) this.#finish();
          else this.#state = LENGTH;
        } else {
          this.#state = UNTIL_CLOSE;
        }
        continue;
      }
      if (from >= data.length) return;
      if (this.#state === LENGTH) {
        const take = Math.min(this.#remaining, data.length - from);
        this.#body.push(data.subarray(from, from + take));
        this.#remaining -= take;
        from += take;
        if (this.#remaining === 0) this.#finish();
      } else if (this.#state === CHUNKED) {
        const end = this.#decoder.push(data, from, { onChunkData: (chunk) => this.#body.push(Buffer.from(chunk)) });
        if (end === -2) {
          this.error = 'bad-chunked';
          return;
        }
        if (end === -1) return;
        from = end;
        this.#finish();
      } else {
        this.#body.push(data.subarray(from));
        return;
      }
    }
  }

  /** end is the connection's close: it ends a body that runs until close. */
  end(): void {
    if (this.#state === UNTIL_CLOSE) this.#finish();
  }

  #finish(): void {
    const head = this.#head!;
    this.responses.push({
      interim: this.#interim,
      statusCode: head.statusCode,
      statusMessage: head.statusMessage,
      rawHeaders: head.rawHeaders,
      contentLength: head.contentLength,
      isChunked: head.isChunked,
      isClose: head.isClose,
      keepAliveMs: head.keepAliveMs,
      body: Buffer.concat(this.#body).toString('latin1'),
    });
    this.#interim = [];
    this.#body = [];
    this.#head = undefined;
    this.#state = HEAD;
  }
}

interface Outcome {
  readonly responses: readonly ReadResponse[];
  readonly error: string | undefined;
}

/** read feeds `pieces` (consecutive slices of one wire text) to a fresh reader, then the close. */
function read(wire: Buffer, cuts: readonly number[], methods: readonly string[]): Outcome {
  const reader = new ResponseReader(methods);
  let start = 0;
  for (const cut of [...cuts, wire.length]) {
    // A copy per piece: each read of a socket is its own buffer.
    reader.push(Buffer.from(wire.subarray(start, cut)));
    start = cut;
  }
  reader.end();
  return { responses: reader.responses, error: reader.error };
}

/** forEverySplit calls `check` with the cuts of every two-piece split, then of byte-by-byte pieces. */
function forEverySplit(wire: Buffer, check: (cuts: number[], what: string) => void): void {
  for (let at = 1; at < wire.length; at++) check([at], `split at ${at}`);
  check(
    Array.from({ length: wire.length - 1 }, (_, i) => i + 1),
    'one byte at a time',
  );
}

const wire = (text: string): Buffer => Buffer.from(text, 'latin1');

// One response of every shape the forwarder meets, with what it must read as.
const CASES: { name: string; method?: string; text: string; expect: Partial<ReadResponse> & { statusCode: number; body: string } }[] = [
  {
    name: 'Content-Length body',
    text: 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello',
    expect: {
      statusCode: 200,
      statusMessage: 'OK',
      rawHeaders: ['Content-Type', 'text/plain', 'Content-Length', '5'],
      contentLength: 5,
      isChunked: false,
      isClose: false,
      body: 'hello',
    },
  },
  {
    name: 'chunked body with an extension and a trailer',
    text: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\na\r\n0123456789\r\n0\r\nX-Trailer: t\r\n\r\n',
    expect: { statusCode: 200, isChunked: true, contentLength: -1, body: 'hello0123456789' },
  },
  {
    name: 'chunked body whose data looks like framing and heads',
    text: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n5\r\n0\r\n\r\n\r\n13\r\nHTTP/1.1 200 OK\r\n\r\n\r\n0\r\n\r\n',
    expect: { statusCode: 200, isChunked: true, body: '0\r\n\r\nHTTP/1.1 200 OK\r\n\r\n' },
  },
  {
    name: 'Content-Length body that contains a blank line and a status line',
    text: 'HTTP/1.1 200 OK\r\nContent-Length: 23\r\n\r\n\r\n\r\nHTTP/1.1 404 No\r\n\r\n',
    expect: { statusCode: 200, contentLength: 23, body: '\r\n\r\nHTTP/1.1 404 No\r\n\r\n' },
  },
  {
    name: '204 without a body',
    text: 'HTTP/1.1 204 No Content\r\nX-A: 1\r\n\r\n',
    expect: { statusCode: 204, statusMessage: 'No Content', rawHeaders: ['X-A', '1'], body: '' },
  },
  {
    name: '304 whose Content-Length describes the representation',
    text: 'HTTP/1.1 304 Not Modified\r\nETag: "x"\r\nContent-Length: 100\r\n\r\n',
    expect: { statusCode: 304, contentLength: 100, body: '' },
  },
  {
    name: 'response to HEAD',
    method: 'HEAD',
    text: 'HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nContent-Type: text/html\r\n\r\n',
    expect: { statusCode: 200, contentLength: 1000, body: '' },
  },
  {
    name: 'two interim heads before the final one',
    text: 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 102 Processing\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok',
    expect: {
      statusCode: 200,
      interim: [
        { statusCode: 103, rawHeaders: ['Link', '</a.css>; rel=preload'] },
        { statusCode: 102, rawHeaders: [] },
      ],
      body: 'ok',
    },
  },
  {
    name: 'repeated headers, an empty value, padded values, and no reason phrase',
    text: 'HTTP/1.1 201\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nX-Empty:\r\nX-Pad: \t v w \t\r\nContent-Length: 0\r\n\r\n',
    expect: {
      statusCode: 201,
      statusMessage: '',
      rawHeaders: ['Set-Cookie', 'a=1', 'Set-Cookie', 'b=2', 'X-Empty', '', 'X-Pad', 'v w', 'Content-Length', '0'],
      body: '',
    },
  },
  {
    name: 'Keep-Alive hint and Connection: close',
    text: 'HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\nConnection: close\r\nContent-Length: 3\r\n\r\nabc',
    expect: { statusCode: 200, keepAliveMs: 5000, isClose: true, body: 'abc' },
  },
  {
    name: 'HTTP/1.0 body until the connection closes',
    text: 'HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nthe rest\r\n\r\nuntil close',
    expect: { statusCode: 200, isClose: true, contentLength: -1, body: 'the rest\r\n\r\nuntil close' },
  },
];

function expectOne(outcome: Outcome, c: (typeof CASES)[number], what: string): void {
  assert.equal(outcome.error, undefined, `${c.name}, ${what}: ${outcome.error}`);
  assert.equal(outcome.responses.length, 1, `${c.name}, ${what}: one response`);
  const got = outcome.responses[0]!;
  for (const [key, value] of Object.entries(c.expect)) {
    assert.deepEqual(got[key as keyof ReadResponse], value, `${c.name}, ${what}: ${key}`);
  }
  if (c.expect.interim === undefined) assert.deepEqual(got.interim, [], `${c.name}, ${what}: no interim head`);
}

describe('response heads and bodies across read boundaries', () => {
  for (const c of CASES) {
    test(`${c.name}: whole, split at every byte, and byte by byte`, () => {
      const bytes = wire(c.text);
      const methods = [c.method ?? 'GET'];
      const whole = read(bytes, [], methods);
      expectOne(whole, c, 'whole');
      forEverySplit(bytes, (cuts, what) => {
        const outcome = read(bytes, cuts, methods);
        expectOne(outcome, c, what);
        assert.deepEqual(outcome, whole, `${c.name}, ${what}: the same as whole`);
      });
    });
  }

  // A keep-alive connection: every response but the close-delimited one, back to back.
  const run = CASES.filter((c) => !c.expect.isClose);
  const runWire = wire(run.map((c) => c.text).join(''));
  const runMethods = run.map((c) => c.method ?? 'GET');

  test('a keep-alive run of responses reads the same at every split', () => {
    const whole = read(runWire, [], runMethods);
    assert.equal(whole.error, undefined);
    assert.deepEqual(
      whole.responses.map((r) => r.statusCode),
      run.map((c) => c.expect.statusCode),
    );
    assert.deepEqual(
      whole.responses.map((r) => r.body),
      run.map((c) => c.expect.body),
    );
    forEverySplit(runWire, (cuts, what) => assert.deepEqual(read(runWire, cuts, runMethods), whole, what));
  });

  test('a keep-alive run reads the same in seeded random pieces', () => {
    const whole = read(runWire, [], runMethods);
    let seed = 0x5eed;
    const random = () => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x80000000;
    };
    for (let round = 0; round < 2000; round++) {
      const cuts = new Set<number>();
      const count = 1 + Math.floor(random() * 12);
      while (cuts.size < count) cuts.add(1 + Math.floor(random() * (runWire.length - 1)));
      const sorted = [...cuts].sort((a, b) => a - b);
      assert.deepEqual(read(runWire, sorted, runMethods), whole, `cuts ${sorted.join(',')}`);
    }
  });

  test('the head terminator is found wherever its four bytes fall, searching from three bytes back', () => {
    const head = wire('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    for (let at = 1; at < head.length; at++) {
      const first = head.subarray(0, at);
      const searchFrom = Math.max(0, first.length - 3);
      assert.equal(findHeadEnd(first, 0) === -1 || at === head.length, true, `no end within ${at} bytes`);
      assert.equal(findHeadEnd(Buffer.concat([first, head.subarray(at)]), searchFrom), head.length, `end found after a cut at ${at}`);
    }
  });
});

describe('refusals do not depend on where the bytes were cut', () => {
  const MALFORMED: [string, string][] = [
    ['a header line without a colon', 'HTTP/1.1 200 OK\r\nBad Header\r\nContent-Length: 0\r\n\r\n'],
    ['a space before the colon', 'HTTP/1.1 200 OK\r\nX-A : 1\r\nContent-Length: 0\r\n\r\n'],
    ['two different Content-Length values', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxy'],
    ['a signed Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: +1\r\n\r\nx'],
    ['an HTTP/2 status line', 'HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n'],
    ['a two-digit status', 'HTTP/1.1 20 OK\r\nContent-Length: 0\r\n\r\n'],
    ['a control character in a value', 'HTTP/1.1 200 OK\r\nX-A: a\x01b\r\nContent-Length: 0\r\n\r\n'],
    ['a control character in the reason phrase', 'HTTP/1.1 200 O\x01K\r\nContent-Length: 0\r\n\r\n'],
    ['DEL in the reason phrase', 'HTTP/1.1 200 O\x7fK\r\nContent-Length: 0\r\n\r\n'],
    ['a malformed head after an interim one', 'HTTP/1.1 103 Early Hints\r\n\r\nHTTP/1.1 200 OK\r\nno colon\r\n\r\n'],
  ];
  for (const [name, text] of MALFORMED) {
    test(`${name} is 'malformed' at every split`, () => {
      const bytes = wire(text);
      assert.equal(read(bytes, [], ['GET']).error, 'malformed');
      forEverySplit(bytes, (cuts, what) => assert.equal(read(bytes, cuts, ['GET']).error, 'malformed', what));
    });
  }

  const BAD_CHUNKS: [string, string][] = [
    ['chunk data longer than its size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhello\r\n0\r\n\r\n'],
    ['a size that is not hex', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n'],
    ['a size line ending in a bare LF', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n'],
    ['a size of more than 12 hex digits', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000000000000\r\nx\r\n0\r\n\r\n'],
  ];
  for (const [name, text] of BAD_CHUNKS) {
    test(`${name} is refused by the chunked decoder at every split`, () => {
      const bytes = wire(text);
      assert.equal(read(bytes, [], ['GET']).error, 'bad-chunked');
      forEverySplit(bytes, (cuts, what) => assert.equal(read(bytes, cuts, ['GET']).error, 'bad-chunked', what));
    });
  }
});

describe('ChunkedDecoder', () => {
  test('passes views into the input, and tells where the body ended within the last piece', () => {
    const decoder = new ChunkedDecoder();
    const input = wire('3\r\nabc\r\n0\r\n\r\nNEXT');
    const seen: Buffer[] = [];
    const end = decoder.push(input, 0, { onChunkData: (data) => seen.push(data) });
    assert.equal(end, input.length - 4);
    assert.equal(seen.length, 1);
    assert.equal(seen[0]!.buffer, input.buffer, 'a view, not a copy');
    assert.equal(seen[0]!.toString(), 'abc');
  });

  test('reset readies it for the next body on the same connection', () => {
    const decoder = new ChunkedDecoder();
    const sink = { onChunkData: () => {} };
    assert.equal(decoder.push(wire('5\r\nhel'), 0, sink), -1);
    decoder.reset();
    const next = wire('2\r\nok\r\n0\r\n\r\n');
    assert.equal(decoder.push(next, 0, sink), next.length);
  });
});
