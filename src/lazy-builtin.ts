/**
 * lazyBuiltin returns a function that loads one of node's built-in modules on its first call and
 * returns it from then on. It is for the built-ins only some configurations use (node:http2,
 * node:tls, node:https): a host that never calls it never loads them, where a static import
 * would load them at start (about 1 MiB of RSS for a plain HTTP site, docs/performance.md,
 * "Start-up and idle memory"). It is synchronous, unlike import(): node's require loads
 * built-ins from ES modules too. Use `import type` for the module's types.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export function lazyBuiltin<T>(name: `node:${string}`): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(name) as T);
}
