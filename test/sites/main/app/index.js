require('../../_lib/test-app.js').start('default document app');
