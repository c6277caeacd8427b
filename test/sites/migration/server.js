require('http').createServer((req, res) => res.end('migrated')).listen(process.env.PORT);
