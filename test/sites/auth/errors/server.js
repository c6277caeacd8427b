// An application that cannot start: its failure is the iisnode developer page's subject.
'use strict';
throw new Error('the errors app refuses to start');
