require('../_lib/counted.js')('small');
