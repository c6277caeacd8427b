require('../_lib/counted.js')('stale');
