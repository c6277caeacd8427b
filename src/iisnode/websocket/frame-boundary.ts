/**
 * FrameBoundary follows the WebSocket frame structure (RFC 6455 §5.2) of one direction of a
 * tunnel by reading only frame headers, so the host knows when it may insert a frame of its
 * own (the 1001 "going away" close at the end of a drain) without corrupting the stream.
 * Payload bytes are skipped, never copied.
 */
export class FrameBoundary {
  /** Payload bytes of the current frame still to come. */
  #remaining = 0;
  readonly #head = Buffer.alloc(14);
  #headLength = 0;

  /** isAtBoundary tells whether the bytes fed so far end exactly at the end of a frame. */
  get isAtBoundary(): boolean {
    return this.#remaining === 0 && this.#headLength === 0;
  }

  /** feed accounts for the next bytes of the stream, in order. */
  feed(chunk: Buffer): void {
    let i = 0;
    const length = chunk.length;
    while (i < length) {
      if (this.#remaining > 0) {
        const take = Math.min(this.#remaining, length - i);
        this.#remaining -= take;
        i += take;
        continue;
      }
      this.#head[this.#headLength++] = chunk[i++];
      if (this.#headLength < 2) continue;
      const len7 = this.#head[1] & 0x7f;
      const total = 2 + (len7 === 126 ? 2 : len7 === 127 ? 8 : 0) + ((this.#head[1] & 0x80) !== 0 ? 4 : 0);
      if (this.#headLength < total) continue;
      this.#remaining = len7 === 126 ? this.#head.readUInt16BE(2) : len7 === 127 ? Number(this.#head.readBigUInt64BE(2)) : len7;
      this.#headLength = 0;
    }
  }
}

/** closeFrame builds an unmasked (server-to-client) close frame with a status code and a short reason. */
export function closeFrame(code: number, reason: string): Buffer {
  const text = Buffer.from(reason, 'utf8').subarray(0, 123);
  const frame = Buffer.alloc(4 + text.length);
  frame[0] = 0x88;
  frame[1] = 2 + text.length;
  frame.writeUInt16BE(code, 2);
  text.copy(frame, 4);
  return frame;
}
