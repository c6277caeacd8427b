// The app behind a Kudu-style web.config: every URL that is not a file under public/ reaches it,
// and node sees that URL as the client sent it, as under iisnode.
const http = require('http');

http.createServer((req, res) => {
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>URL Rewrite · nodehost showcase</title>
<link rel="stylesheet" href="/style.css"></head><body><main><p class="back"><a href="/">← showcase</a></p>
<h1>URL Rewrite</h1>
<p class="lead">This answer comes from <code>kudu/server.js</code>: the DynamicContent rule of <code>kudu/web.config</code> sent
<code>${escape(req.url)}</code> here because no file <code>public${escape(req.url.slice('/kudu'.length))}</code> exists.</p>
<div class="panel"><ul>
<li><a href="/kudu/hello.txt">/kudu/hello.txt</a>: the StaticContent rule finds <code>public/hello.txt</code>, served as a file.</li>
<li><a href="/kudu/any/route?x=1">/kudu/any/route?x=1</a>: no such file, so node answers (this page).</li>
<li><a href="/kudu/docs">/kudu/docs</a>: the rewrite map <code>ShortLinks</code> redirects it to <code>/kudu/hello.txt</code>.</li>
</ul></div></main></body></html>
`);
}).listen(process.env.PORT);

function escape(text) {
  return text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]);
}
