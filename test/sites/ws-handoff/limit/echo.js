// The echo app (see ../echo/echo.js) under the settings of this folder.
'use strict';
require('../echo/echo.js');
