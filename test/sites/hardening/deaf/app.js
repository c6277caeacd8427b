// A worker that starts and never listens on PORT.
'use strict';
setInterval(() => {}, 1000);
