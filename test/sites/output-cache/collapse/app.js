require('../_lib/counted.js')('collapse');
