require('../_lib/counted.js')('timed');
