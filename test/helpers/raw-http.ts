/**
 * A raw HTTP/1.1 client for tests that need the wire itself: bytes written exactly as given
 * (pieces, pipelining, malformed heads) and responses read with their header lines in order.
 */
import net from 'node:net';
import tls from 'node:tls';
import { once } from 'node:events';

/** RawResponse is one response as it came over the wire. */
export interface RawResponse {
  readonly status: number;
  /** Header lines in order, as [name, value]. */
  readonly headers: [string, string][];
  readonly body: Buffer;
}

/** RawConnection is a client socket with a response reader that keeps unread bytes between reads. */
export class RawConnection {
  readonly socket: net.Socket;
  #buffer = Buffer.alloc(0);
  #isEnded = false;
  #wake: (() => void) | undefined;

  private constructor(socket: net.Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      this.#wake?.();
    });
    socket.on('close', () => {
      this.#isEnded = true;
      this.#wake?.();
    });
    socket.on('error', () => {});
  }

  static async open(port: number): Promise<RawConnection> {
    const socket = net.connect(port, '127.0.0.1');
    await once(socket, 'connect');
    return new RawConnection(socket);
  }

  /** openTls opens a TLS connection (`options`: the CA, the server name) and resolves once the handshake is done. */
  static async openTls(port: number, options: tls.ConnectionOptions): Promise<RawConnection> {
    const socket = tls.connect({ host: '127.0.0.1', port, ...options });
    await once(socket, 'secureConnect');
    return new RawConnection(socket);
  }

  /** write sends bytes and resolves once the socket has taken them. */
  write(bytes: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(bytes, (err) => (err ? reject(err) : resolve())));
  }

  /** closed resolves when the server has closed the connection. */
  async closed(): Promise<void> {
    while (!this.#isEnded) await this.#more();
  }

  close(): void {
    this.socket.destroy();
  }

  /** read reads the next response; `isHead` for a response to HEAD (no body whatever the headers say). */
  async read(isHead = false): Promise<RawResponse> {
    while (this.#buffer.indexOf('\r\n\r\n') === -1) await this.#need();
    const end = this.#buffer.indexOf('\r\n\r\n');
    const lines = this.#buffer.subarray(0, end).toString('latin1').split('\r\n');
    this.#buffer = this.#buffer.subarray(end + 4);
    const status = Number(lines[0]!.split(' ')[1]);
    const headers = lines.slice(1).map((line): [string, string] => {
      const colon = line.indexOf(':');
      return [line.slice(0, colon), line.slice(colon + 1).trim()];
    });
    const header = (name: string) => headers.find(([n]) => n.toLowerCase() === name)?.[1];
    if (isHead || status === 204 || status === 304 || status < 200) return { status, headers, body: Buffer.alloc(0) };
    if (header('transfer-encoding')?.toLowerCase() === 'chunked') return { status, headers, body: await this.#readChunked() };
    const length = header('content-length');
    if (length !== undefined) return { status, headers, body: await this.#take(Number(length)) };
    await this.closed();
    const body = this.#buffer;
    this.#buffer = Buffer.alloc(0);
    return { status, headers, body };
  }

  async #readChunked(): Promise<Buffer> {
    const parts: Buffer[] = [];
    for (;;) {
      while (this.#buffer.indexOf('\r\n') === -1) await this.#need();
      const lineEnd = this.#buffer.indexOf('\r\n');
      const size = parseInt(this.#buffer.subarray(0, lineEnd).toString('latin1'), 16);
      this.#buffer = this.#buffer.subarray(lineEnd + 2);
      if (size === 0) {
        await this.#take(2);
        return Buffer.concat(parts);
      }
      parts.push(await this.#take(size));
      await this.#take(2);
    }
  }

  async #take(count: number): Promise<Buffer> {
    while (this.#buffer.length < count) await this.#need();
    const out = this.#buffer.subarray(0, count);
    this.#buffer = this.#buffer.subarray(count);
    return out;
  }

  async #need(): Promise<void> {
    if (this.#isEnded) throw new Error(`the connection closed in the middle of a response (${this.#buffer.length} bytes unread)`);
    await this.#more();
  }

  #more(): Promise<void> {
    return new Promise(
      (resolve) =>
        (this.#wake = () => {
          this.#wake = undefined;
          resolve();
        }),
    );
  }
}

/** headerOf returns the first value of a header (case-insensitive name). */
export function headerOf(response: RawResponse, name: string): string | undefined {
  return response.headers.find(([n]) => n.toLowerCase() === name.toLowerCase())?.[1];
}
