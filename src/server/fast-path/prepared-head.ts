/**
 * PreparedHead is the head a frozen header list (name, value, ...) renders to on a
 * FastResponse, kept with the list. A frozen list cannot change, so it is validated and
 * rendered once per response shape (status, keep-alive or close, body or none), and later
 * responses of that shape send bytes built before: no header is validated, lower-cased or
 * concatenated per request. Only the Date text changes, once a second; the bytes are rebuilt
 * then, into new buffers (a socket may still hold the old ones), and so is the copy of the head
 * with a small body behind it, so that such a response is one write of a buffer built before.
 *
 * nodehost's own lists are frozen (a cached static file's head, an output-cache entry's); a
 * caller's mutable list is rendered as usual, every time.
 *
 *   frozen list ──WeakMap──▶ [PreparedHead per shape] ──▶ head bytes of this second
 *                                                      └─▶ head + body of this second (body ≤ JOINED_MAX)
 */

/**
 * JOINED_MAX bounds the bodies kept joined behind their head: every hot file's body is held a
 * second time per shape, so larger ones go out as head bytes and the body in one corked write
 * (measured for 4 KiB: the joined write cost 6 % fewer instructions per request than the corked one).
 */
export const JOINED_MAX = 16 * 1024;

/** At most this many shapes are kept per list; one more starts the list's set afresh. */
const MAX_SHAPES = 4;

/** What a response looks like before its head is rendered; a PreparedHead is kept for one of these. */
export interface HeadShape {
  readonly status: number;
  readonly message: string;
  /** The response's shouldKeepAlive before rendering. */
  readonly isKeepAlive: boolean;
  readonly keepAliveSec: number;
  readonly hasBody: boolean;
}

/** What rendering decided beyond the text: the response takes these over when it reuses a PreparedHead. */
export interface RenderedHead {
  readonly text: string;
  /** Where the 29 characters of the Date value start in `text`; -1 when the head has no Date of its own making. */
  readonly dateOffset: number;
  readonly isLast: boolean;
  readonly isChunked: boolean;
  /** shouldKeepAlive after rendering (a Connection header in the list may change it). */
  readonly keepsAlive: boolean;
}

/** PreparedHead is one shape's rendering of a frozen list, with its bytes for the current Date; it never changes a buffer it has handed out. */
export class PreparedHead implements HeadShape, RenderedHead {
  readonly status: number;
  readonly message: string;
  readonly isKeepAlive: boolean;
  readonly keepAliveSec: number;
  readonly hasBody: boolean;
  readonly text: string;
  readonly dateOffset: number;
  readonly isLast: boolean;
  readonly isChunked: boolean;
  readonly keepsAlive: boolean;
  /** The Date value `#head` and `#joined` carry. */
  #date: string;
  #head: Buffer;
  #body: Buffer | undefined = undefined;
  #joined: Buffer | undefined = undefined;

  constructor(shape: HeadShape, rendered: RenderedHead) {
    this.status = shape.status;
    this.message = shape.message;
    this.isKeepAlive = shape.isKeepAlive;
    this.keepAliveSec = shape.keepAliveSec;
    this.hasBody = shape.hasBody;
    this.text = rendered.text;
    this.dateOffset = rendered.dateOffset;
    this.isLast = rendered.isLast;
    this.isChunked = rendered.isChunked;
    this.keepsAlive = rendered.keepsAlive;
    // Latin-1 only (validated when rendered): one byte per character.
    this.#head = Buffer.from(rendered.text, 'latin1');
    this.#date = rendered.dateOffset < 0 ? '' : rendered.text.slice(rendered.dateOffset, rendered.dateOffset + 29);
  }

  /** isShape tells whether this head was rendered for a response of that shape. */
  isShape(status: number, message: string, isKeepAlive: boolean, keepAliveSec: number, hasBody: boolean): boolean {
    return (
      this.status === status && this.message === message && this.isKeepAlive === isKeepAlive && this.keepAliveSec === keepAliveSec && this.hasBody === hasBody
    );
  }

  /** headBytes is the head with `date` as its Date value; the same buffer within a second. */
  headBytes(date: string): Buffer {
    if (this.dateOffset >= 0 && date !== this.#date) this.#redate(date);
    return this.#head;
  }

  /**
   * joinedBytes is the head with `date` followed by `body`, in one buffer kept while the date
   * and the body (the same buffer) stay; undefined for a body over JOINED_MAX.
   */
  joinedBytes(date: string, body: Buffer): Buffer | undefined {
    if (body.length > JOINED_MAX) return undefined;
    const head = this.headBytes(date);
    let joined = this.#joined;
    if (joined === undefined || this.#body !== body) {
      joined = Buffer.allocUnsafe(head.length + body.length);
      head.copy(joined, 0);
      body.copy(joined, head.length);
      this.#joined = joined;
      this.#body = body;
    }
    return joined;
  }

  #redate(date: string): void {
    const head = Buffer.from(this.#head);
    head.write(date, this.dateOffset, 'latin1');
    this.#head = head;
    this.#date = date;
    // The joined copy carries the old date: rebuilt on its next use.
    this.#joined = undefined;
  }
}

/** The prepared heads of each frozen list, by shape. */
const prepared = new WeakMap<readonly unknown[], PreparedHead[]>();

/** isFrozenList tells a frozen flat list (name, value, ...) of strings, whose head may be kept, from any other headers argument. */
export function isFrozenList(headers: unknown): headers is readonly string[] {
  return Array.isArray(headers) && typeof headers[0] === 'string' && Object.isFrozen(headers);
}

/** findPreparedHead returns the head kept for `list` and that shape, or undefined. */
export function findPreparedHead(
  list: readonly string[],
  status: number,
  message: string,
  isKeepAlive: boolean,
  keepAliveSec: number,
  hasBody: boolean,
): PreparedHead | undefined {
  const heads = prepared.get(list);
  if (heads === undefined) return undefined;
  for (const head of heads) if (head.isShape(status, message, isKeepAlive, keepAliveSec, hasBody)) return head;
  return undefined;
}

/** keepPreparedHead keeps `head` for `list` (beyond MAX_SHAPES, instead of the others). */
export function keepPreparedHead(list: readonly string[], head: PreparedHead): void {
  const heads = prepared.get(list);
  if (heads === undefined || heads.length >= MAX_SHAPES) prepared.set(list, [head]);
  else heads.push(head);
}
