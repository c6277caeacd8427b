/**
 * The access log's server fields (s-ip, s-port) of requests whose connection closed: the 'log'
 * phase runs once the response has closed, after the socket is gone when the client left, so
 * the server's address must have been read while it was open (PipelineModule.readsLocalAddress),
 * not when the line is written.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { accessLogLine } from './helpers/access-log.js';
import { startNodehost, type RunningHost } from './helpers/nodehost.js';
import { RawConnection } from './helpers/raw-http.js';

const tmp = fs.mkdtempSync(path.join(tmpdir(), 'nodehost-log-closed-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe('access log of a closed connection', () => {
  let host: RunningHost;

  before(async () => {
    const root = path.join(tmp, 'closing');
    fs.mkdirSync(root, { recursive: true });
    fs.writeFileSync(path.join(root, 'page.txt'), 'a page\n');
    // An app that never answers: its client gives up and leaves.
    fs.writeFileSync(path.join(root, 'never.js'), "require('http').createServer(() => {}).listen(process.env.PORT);\n");
    fs.writeFileSync(
      path.join(root, 'web.config'),
      '<configuration><system.webServer><handlers><add name="iisnode" path="never.js" verb="*" modules="iisnode"/></handlers>' +
        '<iisnode loggingEnabled="false"/></system.webServer></configuration>\n',
    );
    host = await startNodehost(root, { args: ['--host', '127.0.0.1'] });
  });

  after(async () => {
    await host?.stop();
  });

  test('a request with Connection: close is logged with the address and port it reached', async () => {
    const connection = await RawConnection.open(host.port);
    await connection.write('GET /page.txt?probe=closed HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
    assert.equal((await connection.read()).status, 200);
    await connection.closed();
    const line = await accessLogLine(path.join(tmp, 'logs', 'closing'), '/page.txt', 'closed');
    assert.equal(line['s-ip'], '127.0.0.1');
    assert.equal(line['s-port'], String(host.port));
  });

  test('a request whose client left before the answer is logged with the address and port it reached', async () => {
    const connection = await RawConnection.open(host.port);
    await connection.write('GET /never.js?probe=left HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    connection.socket.destroy();
    const line = await accessLogLine(path.join(tmp, 'logs', 'closing'), '/never.js', 'left');
    assert.equal(line['s-ip'], '127.0.0.1');
    assert.equal(line['s-port'], String(host.port));
  });
});
