// A `node --import` preload for tests: every module the process loads (ESM, and CommonJS
// packages reached through import) is appended, one URL a line, to the file named by
// NODEHOST_TEST_MODULE_TRACE. The hook runs on node's loader thread, so it writes synchronously.
import { register } from 'node:module';

const hook = `
import { appendFileSync } from 'node:fs';
const file = process.env.NODEHOST_TEST_MODULE_TRACE;
export async function load(url, context, nextLoad) {
  appendFileSync(file, url + '\\n');
  return nextLoad(url, context);
}
`;
register(`data:text/javascript,${encodeURIComponent(hook)}`);
