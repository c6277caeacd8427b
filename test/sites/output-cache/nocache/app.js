require('../_lib/counted.js')('nocache');
