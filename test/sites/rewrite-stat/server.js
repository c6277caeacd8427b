// Answers "node <url>": what the Kudu rules did not serve as a file under public/.
require('http')
  .createServer((req, res) => res.end(`node ${req.url}`))
  .listen(process.env.PORT);
