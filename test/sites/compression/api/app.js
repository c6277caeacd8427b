// The same application as the site root's, mapped in this folder too.
require('../app.js');
