// Listens only once a file named `go` exists beside it: a start that the test decides when to end.
'use strict';
const fs = require('fs');
const path = require('path');
const timer = setInterval(() => {
  if (!fs.existsSync(path.join(__dirname, 'go'))) return;
  clearInterval(timer);
  require('../app.js');
}, 20);
