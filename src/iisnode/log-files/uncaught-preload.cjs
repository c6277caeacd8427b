'use strict';
// nodehost's uncaught-exception reporter, loaded into a worker with `node --require` when
// loggingEnabled is true (ES module entry scripts included). It adds one 'uncaughtException'
// listener and nothing else. When an exception reaches it and, at that moment, the
// application has no listener of its own, it writes iisnode's message and the stack to stderr
// and exits with code 1, as node would have. When the application has a listener, it does
// nothing and the application decides.
const fs = require('node:fs');

function onUncaughtException(err) {
  if (process.listenerCount('uncaughtException') > 1) return;
  let text;
  try {
    text = err !== null && typeof err === 'object' && typeof err.stack === 'string' ? err.stack : String(err);
  } catch {
    text = '[the exception cannot be printed]';
  }
  try {
    fs.writeSync(2, 'Application has thrown an uncaught exception and is terminated:\n' + text + '\n');
  } catch {
    // stderr is gone: nothing more can be said.
  }
  process.exit(1);
}

process.on('uncaughtException', onUncaughtException);
