// The "real app" scenario: an express route that spends about 1 ms of CPU per request, so
// that the app, not the front, is the bottleneck. express is resolved from the nodehost
// checkout (the harness fills in its path), since the site lives in a temp folder.
const express = require({{expressPath}});
const app = express();
app.get('/app.js', (req, res) => {
  const until = process.hrtime.bigint() + 1_000_000n;
  let spins = 0;
  while (process.hrtime.bigint() < until) spins++;
  res.type('text/plain').send(spins > 0 ? 'done' : 'none');
});
app.listen(process.env.PORT);
