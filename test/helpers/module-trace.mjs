// A `node --import` preload for tests: every module the process loads (ESM, and CommonJS
// packages reached through import) is appended, one URL a line, to the file named by
// NODEHOST_TEST_MODULE_TRACE. The hook runs on node's loader thread, so it writes synchronously.
// Built-ins loaded with require() (a package's, or nodehost's lazy ones through createRequire)
// never reach that hook: require itself is wrapped on the main thread and writes `node:<name>`.
import { appendFileSync } from 'node:fs';
import Module, { builtinModules, register } from 'node:module';

const hook = `
import { appendFileSync } from 'node:fs';
const file = process.env.NODEHOST_TEST_MODULE_TRACE;
export async function load(url, context, nextLoad) {
  appendFileSync(file, url + '\\n');
  return nextLoad(url, context);
}
`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);

const file = process.env.NODEHOST_TEST_MODULE_TRACE;
const builtins = new Set(builtinModules);
const require = Module.prototype.require;
Module.prototype.require = function traced(id, ...rest) {
  if (typeof id === 'string' && (id.startsWith('node:') || builtins.has(id))) appendFileSync(file, `${id.startsWith('node:') ? id : `node:${id}`}\n`);
  return require.call(this, id, ...rest);
};
