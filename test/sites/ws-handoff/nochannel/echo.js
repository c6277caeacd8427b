// The same echo app, but it closes its IPC channel to the host first (as an app may): the host
// cannot hand it sockets and pipes its WebSockets instead.
'use strict';
process.disconnect();
require('../echo/echo.js');
