require('../_lib/test-app.js').start('trusted-proxies');
