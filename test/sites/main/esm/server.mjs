import { createServer } from 'node:http';
const where = import.meta.url.split('/').slice(-2).join('/');
createServer((req, res) => res.end(`Hello from an ES module [${where}]`)).listen(process.env.PORT);
