// A small JSON API with express, unchanged from how it would run under iisnode.
const express = require('express');

const app = express();
const base = '/api/server.js';
let requests = 0;

app.use((req, res, next) => { requests++; next(); });
app.get(`${base}/whoami`, (req, res) => {
  res.json({ pid: process.pid, requestsInThisProcess: requests, forwardedFor: req.get('x-forwarded-for'), nodeEnv: process.env.NODE_ENV });
});
app.get(`${base}/time`, (req, res) => res.json({ now: new Date().toISOString() }));
app.get(base, (req, res) => res.json({ routes: [`${base}/whoami`, `${base}/time`] }));

app.listen(process.env.PORT);
