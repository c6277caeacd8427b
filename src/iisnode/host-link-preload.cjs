'use strict';
// nodehost's end of the IPC channel in every worker, loaded with `node --require` before the
// application. It does three things and nothing else:
// - it answers the host's heartbeat pings from the worker's event loop (with the used V8 heap),
//   so the host sees a blocked event loop or a heap over budget without trusting the app
//   (maxEventLoopBlockMs, maxHeapMB);
// - it ends the worker when its host is gone (killed with SIGKILL, say): a worker without a host
//   would serve no one and hold its memory. The channel closes then; since the application could
//   also close it (process.disconnect()), the worker ends only once its parent has changed too
//   (the orphan is adopted by init or a subreaper), checked at once and then every 200 ms. It
//   gets SIGTERM first so the application's own handler can run, then exits;
// - it takes upgraded (WebSocket) client connections the host hands over (websocket/handoff-preload.cjs).
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
/** How often the parent is checked once the channel has closed. */
const PARENT_CHECK_MS = 200;
const hostPid = process.ppid;

if (typeof process.send === 'function' && process.channel) {
  process.on('message', (message) => {
    if (message === null || typeof message !== 'object' || message.nodehost !== 'ping') return;
    process.send({ nodehost: 'pong', seq: message.seq, heapUsed: v8.getHeapStatistics().used_heap_size }, undefined, {}, () => {});
  });
  process.on('disconnect', () => {
    // The kernel may close the host's files a moment before it hands the orphan to a new parent.
    const check = () => {
      if (process.ppid === hostPid) return false;
      clearInterval(timer);
      setTimeout(() => process.exit(1), ORPHAN_EXIT_MS).unref();
      process.kill(process.pid, 'SIGTERM');
      return true;
    };
    const timer = setInterval(check, PARENT_CHECK_MS);
    timer.unref();
    check();
  });
  require('./websocket/handoff-preload.cjs').installHandoff();
  process.channel.unref();
}
