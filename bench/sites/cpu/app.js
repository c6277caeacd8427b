// The output-cache scenarios: a plain node endpoint that spends 5 ms of CPU per request, so
// every request that reaches it costs the app a lot and every cache hit saves that much.
require('http').createServer((req, res) => {
  const until = process.hrtime.bigint() + 5_000_000n;
  let spins = 0;
  while (process.hrtime.bigint() < until) spins++;
  res.setHeader('Content-Type', 'text/plain');
  res.end(spins > 0 ? 'computed' : 'none');
}).listen(process.env.PORT);
