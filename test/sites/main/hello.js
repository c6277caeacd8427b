require('../_lib/test-app.js').start('main');
