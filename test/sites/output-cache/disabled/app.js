require('../_lib/counted.js')('disabled');
