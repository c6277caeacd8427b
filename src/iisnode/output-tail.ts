/**
 * OutputTail keeps the last `capacity` bytes written to it in one fixed ring buffer, so a
 * chatty worker costs a copy per chunk and no allocation. The developer error page shows the
 * tail of a worker's stderr (spec 2.9: "the last 64k").
 */
export const STDERR_TAIL_BYTES = 64 * 1024;

export class OutputTail {
  readonly #ring: Buffer;
  /** Next write position in `#ring`. */
  #end = 0;
  /** Bytes held, at most capacity. */
  #length = 0;

  constructor(capacity = STDERR_TAIL_BYTES) {
    this.#ring = Buffer.allocUnsafe(capacity);
  }

  /** length is the number of bytes held (at most the capacity). */
  get length(): number {
    return this.#length;
  }

  /** append adds a chunk, dropping the oldest bytes beyond the capacity. */
  append(chunk: Buffer): void {
    const capacity = this.#ring.length;
    if (chunk.length >= capacity) {
      chunk.copy(this.#ring, 0, chunk.length - capacity);
      this.#end = 0;
      this.#length = capacity;
      return;
    }
    const first = Math.min(chunk.length, capacity - this.#end);
    chunk.copy(this.#ring, this.#end, 0, first);
    if (first < chunk.length) chunk.copy(this.#ring, 0, first);
    this.#end = (this.#end + chunk.length) % capacity;
    this.#length = Math.min(capacity, this.#length + chunk.length);
  }

  /** read returns a copy of the bytes held, oldest first. */
  read(): Buffer {
    const capacity = this.#ring.length;
    const start = (this.#end - this.#length + capacity) % capacity;
    if (start + this.#length <= capacity) return Buffer.from(this.#ring.subarray(start, start + this.#length));
    return Buffer.concat([this.#ring.subarray(start), this.#ring.subarray(0, this.#end)]);
  }

  /**
   * text returns the tail decoded as UTF-8, starting at a character boundary (a tail cut in
   * the middle of a multi-byte character would otherwise begin with U+FFFD).
   */
  text(): string {
    const bytes = this.read();
    let start = 0;
    // Skip at most 3 continuation bytes (10xxxxxx) left over from a character cut in two.
    while (start < 3 && start < bytes.length && this.#length === this.#ring.length && (bytes[start] & 0xc0) === 0x80) start++;
    return bytes.toString('utf8', start);
  }
}
