import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseH2load } from './tls.js';

const OUTPUT = `starting benchmark...
Main benchmark duration is over for thread #0. Stopping all clients.

finished in 2.03s, 500.00 req/s, 61.07KB/s
requests: 1031 total, 1049 started, 1031 done, 1000 succeeded, 31 failed, 31 errored, 0 timeout
status codes: 1000 2xx, 0 3xx, 2 4xx, 1 5xx
traffic: 122.13KB (125066) total, 101.56KB (104000) headers (space savings 40.23%), 2.93KB (3000) data
                     min         max         mean         sd        +/- sd
time for request:       64us      1.98ms      1.08ms       399us    75.80%
`;

test('reads h2load: done requests, req/s, non-2xx, failures and the mean request time', () => {
  const r = parseH2load(OUTPUT);
  assert.equal(r.requests, 1031);
  assert.equal(r.requestsPerSec, 500);
  assert.equal(r.non2xx, 3);
  assert.equal(r.errors, 62);
  assert.equal(r.meanMs, 1.08);
});

test('output without a summary is an error', () => {
  assert.throws(() => parseH2load('connect failed\n'), /cannot read h2load/);
});
