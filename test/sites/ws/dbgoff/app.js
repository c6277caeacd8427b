// Answers with its pid and the URL it saw (the first line is where --inspect-brk stops).
'use strict';
const http = require('http');
http.createServer((req, res) => res.end(`app ${process.pid} ${req.url} ${process.execArgv.join(' ')}`)).listen(process.env.PORT);
