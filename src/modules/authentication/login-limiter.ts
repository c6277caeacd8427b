/**
 * LoginLimiter counts failed logins per client address: once an address has `max` failures
 * within `windowMs`, its logins get 429 for `lockoutMs`. One per site and front-door process;
 * the table is bounded (expired addresses are dropped once it holds MAX_ADDRESSES).
 */

const MAX_ADDRESSES = 10_000;

interface Failures {
  count: number;
  windowStart: number;
  lockedUntil: number;
}

/** LoginLimiter; see the file comment. */
export class LoginLimiter {
  readonly #addresses = new Map<string, Failures>();

  /** lockedFor returns the milliseconds `address` stays locked out at `now`, 0 when it may try. */
  lockedFor(address: string, now: number): number {
    const entry = this.#addresses.get(address);
    return entry === undefined || entry.lockedUntil <= now ? 0 : entry.lockedUntil - now;
  }

  /** recordFailure counts one failure of `address` at `now` under the given limits. */
  recordFailure(address: string, now: number, max: number, windowMs: number, lockoutMs: number): void {
    if (max === 0) return;
    let entry = this.#addresses.get(address);
    if (entry === undefined) {
      if (this.#addresses.size >= MAX_ADDRESSES) this.#prune(now, windowMs);
      entry = { count: 0, windowStart: now, lockedUntil: 0 };
      this.#addresses.set(address, entry);
    }
    if (now - entry.windowStart >= windowMs) {
      entry.count = 0;
      entry.windowStart = now;
    }
    entry.count++;
    if (entry.count >= max) {
      entry.lockedUntil = now + lockoutMs;
      entry.count = 0;
      entry.windowStart = now;
    }
  }

  /** recordSuccess forgets the failures of `address`. */
  recordSuccess(address: string): void {
    this.#addresses.delete(address);
  }

  #prune(now: number, windowMs: number): void {
    for (const [address, entry] of this.#addresses) if (entry.lockedUntil <= now && now - entry.windowStart >= windowMs) this.#addresses.delete(address);
  }
}
