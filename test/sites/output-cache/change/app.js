require('../_lib/counted.js')('change');
