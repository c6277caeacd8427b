import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseWrkOutput } from './wrk-output.js';

// wrk is not installed everywhere the harness is developed, so its parser is pinned by
// reports captured from wrk 4.2 (Debian bookworm).

test('parseWrkOutput reads a clean report', () => {
  const r = parseWrkOutput(`Running 5s test @ http://127.0.0.1:8080/hello.js
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.85ms  402.11us  12.35ms   93.21%
    Req/Sec    27.21k     1.02k   28.50k    80.00%
  Latency Distribution
     50%  143.00us
     75%    1.90ms
     90%    2.10ms
     99%    3.55ms
  135421 requests in 5.00s, 15.50MB read
Requests/sec:  27081.58
Transfer/sec:      3.10MB
`);
  assert.equal(r.requests, 135421);
  assert.equal(r.durationSec, 5);
  assert.equal(r.requestsPerSec, 27081.58);
  assert.equal(r.p50Ms, 0.143);
  assert.equal(r.p99Ms, 3.55);
  assert.equal(r.errors, 0);
  assert.equal(r.non2xx, 0);
});

test('parseWrkOutput counts socket errors and non-2xx responses', () => {
  const r = parseWrkOutput(`Running 2s test @ http://127.0.0.1:8080/hello.js
  1 threads and 1 connections
  Latency Distribution
     50%    1.00s
     75%    1.00s
     90%    1.00s
     99%    1.20m
  10 requests in 2.00s, 1.00KB read
  Socket errors: connect 1, read 12, write 0, timeout 3
  Non-2xx or 3xx responses: 7
Requests/sec:      5.00
Transfer/sec:     512.00B
`);
  assert.equal(r.p50Ms, 1000);
  assert.equal(r.p99Ms, 72000);
  assert.equal(r.errors, 16);
  assert.equal(r.non2xx, 7);
});

test('parseWrkOutput names what is missing', () => {
  assert.throws(() => parseWrkOutput('  10 requests in 2.00s, 1KB read\nRequests/sec: 5.00\n'), /50% latency line/);
  assert.throws(() => parseWrkOutput('unable to connect to 127.0.0.1:1 Connection refused\n'), /request count/);
});
