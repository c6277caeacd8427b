const express = require('express');
const app = express();
app.get('/express/server.js/users/:id', (req, res) => res.json({ id: req.params.id, query: req.query }));
app.get('/express/server.js', (req, res) => res.send('Hello from express'));
app.listen(process.env.PORT);
