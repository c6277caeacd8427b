// The same app as the parent folder's; web.config turns sticky sessions on for this folder.
require('../app.js');
