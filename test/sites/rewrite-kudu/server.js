// An express app behind the Kudu web.config: every route echoes what express saw.
const express = require('express');
const app = express();
app.get('/fail', (req, res) => res.status(500).json({ error: 'boom' }));
app.use((req, res) => res.json({ from: 'express', method: req.method, url: req.url, originalUrl: req.headers['x-original-url'] || null }));
app.listen(process.env.PORT);
