require('../app.js');
