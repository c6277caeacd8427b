/**
 * The inspector ports of debug sessions (spec 2.11): `debuggerPortRange` is `N` or `N-M`
 * (1025 ≤ N ≤ M ≤ 65535); each new session takes the next free port after the last one
 * handed out, wrapping around (round robin), testing each by binding it on 127.0.0.1.
 */
import net from 'node:net';

/** PortRange is a parsed `debuggerPortRange`. */
export interface PortRange {
  readonly first: number;
  readonly last: number;
}

/** parsePortRange parses `N` or `N-M`; undefined when the value breaks the rules above. */
export function parsePortRange(text: string): PortRange | undefined {
  const match = /^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$/.exec(text);
  if (match === null) return undefined;
  const first = Number(match[1]);
  const last = match[2] === undefined ? first : Number(match[2]);
  if (first < 1025 || last < first || last > 65535) return undefined;
  return { first, last };
}

/** PortAllocator hands out free ports of a range round robin. One per host, shared by all apps. */
export class PortAllocator {
  /** The last port handed out, per range text. */
  readonly #last = new Map<string, number>();

  /** next resolves with the next port of `range` that can be bound on 127.0.0.1 now, or undefined when none can. */
  async next(range: PortRange): Promise<number | undefined> {
    const key = `${range.first}-${range.last}`;
    const size = range.last - range.first + 1;
    const last = this.#last.get(key) ?? range.last;
    for (let i = 1; i <= size; i++) {
      const port = range.first + ((last - range.first + i) % size);
      if (await isFree(port)) {
        this.#last.set(key, port);
        return port;
      }
    }
    return undefined;
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen({ port, host: '127.0.0.1', exclusive: true }, () => server.close(() => resolve(true)));
  });
}
