/**
 * lazyRequire returns a function that loads a module on its first call and returns it from then
 * on. It is for node's built-ins and the CommonJS packages that only some configurations use
 * (node:http2, node:tls and node:https for https; yaml for a nodehost.yml; node-forge for a self-signed certificate): a host that never
 * calls it never loads them, where a static import would load them at start (about 1 MiB of
 * RSS for a plain HTTP site, docs/performance.md, "Start-up and idle memory"). It is
 * synchronous, unlike import(): node's require loads built-ins and CommonJS from ES modules
 * too. Use `import type` for the module's types. Never for an ES module (require cannot load
 * one in node 20).
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

/** lazyRequire returns the loader of `name` (a built-in such as `node:tls`, or a CommonJS package); the first call loads it. */
export function lazyRequire<T>(name: string): () => T {
  let loaded: T | undefined;
  return () => (loaded ??= require(name) as T);
}
