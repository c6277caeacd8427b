// Patterned bodies for test/response-bodies.test.ts: every word holds its own index, so a piece
// lost, repeated or overwritten anywhere changes the body's hash. `?mib=N` answers N MiB
// (`&seed=S` offsets the words, so concurrent responses differ); `&chunked=1` writes it in
// 100,000-byte pieces without a length (chunked framing); `&text=1` answers text/plain, each
// word as 8 hex digits and a newline (what the site's outbound rule collects whole).
const http = require('node:http');

function pattern(bytes, seed, isText) {
  const body = Buffer.alloc(bytes);
  if (isText) for (let i = 0; i + 9 <= bytes; i += 9) body.write(`${((seed + i / 9) >>> 0).toString(16).padStart(8, '0')}\n`, i, 'latin1');
  else for (let i = 0; i + 4 <= bytes; i += 4) body.writeUInt32LE((seed + i / 4) >>> 0, i);
  return body;
}

http
  .createServer((req, res) => {
    const url = new URL(req.url, 'http://x');
    const isText = url.searchParams.get('text') === '1';
    const body = pattern(Number(url.searchParams.get('mib')) * 1024 * 1024, Number(url.searchParams.get('seed') ?? 0), isText);
    res.setHeader('Content-Type', isText ? 'text/plain' : 'application/octet-stream');
    if (url.searchParams.get('chunked') !== '1') {
      res.end(body);
      return;
    }
    let at = 0;
    const next = () => {
      while (at < body.length) {
        const piece = body.subarray(at, at + 100_000);
        at += piece.length;
        if (!res.write(piece)) return void res.once('drain', next);
      }
      res.end();
    };
    next();
  })
  .listen(process.env.PORT);
