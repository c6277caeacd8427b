// The echo app (see ../echo/echo.js); a plain GET ?recycle asks nodehost to recycle it through IISNODE_CONTROL_PIPE.
'use strict';
const http = require('http');
const net = require('net');
const listen = http.Server.prototype.listen;
http.Server.prototype.listen = function (...args) {
  this.prependListener('request', (req) => {
    if (!req.url.endsWith('?recycle')) return;
    const pipe = net.connect(process.env.IISNODE_CONTROL_PIPE, () => pipe.end('recycle'));
    pipe.on('error', () => {});
  });
  return listen.apply(this, args);
};
require('../echo/echo.js');
