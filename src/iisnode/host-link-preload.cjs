'use strict';
// nodehost's end of the IPC channel in every worker, loaded with `node --require` before the
// application. It does two things and nothing else:
// - it answers the host's heartbeat pings from the worker's event loop (with the used V8 heap),
//   so the host sees a blocked event loop or a heap over budget without trusting the app
//   (maxEventLoopBlockMs, maxHeapMB);
// - it ends the worker when the channel closes while the worker runs: the host is gone (killed
//   with SIGKILL, say), and a worker without a host would serve no one and hold its memory.
//   The worker gets SIGTERM first so the application's own handler can run, then exits.
// The channel is unreferenced: it never keeps a worker alive by itself. The preload takes itself
// out of process.execArgv, so the application sees the flags it was given, and the processes it
// forks (which inherit execArgv) do not load it.
const v8 = require('node:v8');

const self = process.execArgv.findIndex((arg, i) => arg === '--require' && isThisFile(process.execArgv[i + 1]));
if (self >= 0) process.execArgv.splice(self, 2);

function isThisFile(file) {
  try {
    return require.resolve(file) === __filename;
  } catch {
    return false;
  }
}

/** How long a worker whose host is gone gets to end on SIGTERM before it exits. */
const ORPHAN_EXIT_MS = 5000;

if (typeof process.send === 'function' && process.channel) {
  process.on('message', (message) => {
    if (message === null || typeof message !== 'object' || message.nodehost !== 'ping') return;
    process.send({ nodehost: 'pong', seq: message.seq, heapUsed: v8.getHeapStatistics().used_heap_size }, undefined, {}, () => {});
  });
  process.on('disconnect', () => {
    setTimeout(() => process.exit(1), ORPHAN_EXIT_MS).unref();
    process.kill(process.pid, 'SIGTERM');
  });
  process.channel.unref();
}
