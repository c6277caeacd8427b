// Fails at startup after some stderr output: the developer page must show the stderr log file.
'use strict';
console.error('starting the failing app <&>');
throw new Error('cannot start: "quoted" & <tagged>');
