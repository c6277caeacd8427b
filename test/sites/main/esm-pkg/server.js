import { createServer } from 'node:http';
const kind = typeof require === 'undefined' ? 'module' : 'commonjs';
createServer((req, res) => res.end(`Hello from server.js as ${kind}`)).listen(process.env.PORT);
