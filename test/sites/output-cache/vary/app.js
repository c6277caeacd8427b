require('../_lib/counted.js')('vary');
