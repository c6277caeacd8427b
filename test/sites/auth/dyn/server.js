// The authentication tests' application (../app/server.js), mapped in this folder too.
require('../app/server.js');
