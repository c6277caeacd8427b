import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatConnectionsReport, isConnectionsClean, type ConnectionsFrontReport } from './connections.js';

const held: ConnectionsFrontReport = {
  front: 'nodehost-1',
  label: 'nodehost, 1 worker',
  target: 10000,
  reached: 10000,
  failures: {},
  openSec: 10.6,
  hostRssKiB: { idle: 63590, open: 167014, peak: 167014, afterClose: 169779 },
  appRssKiB: { idle: 45158, open: 61850, peak: 61850, afterClose: 61000 },
  kibPerConnection: 10.34,
  fdLimits: { loader: 20000, host: 20000 },
};

test('formatConnectionsReport prints RSS in MiB and KiB per connection', () => {
  const text = formatConnectionsReport([held]);
  const row = text.split('\n').find((l) => l.startsWith('nodehost-1'));
  assert.deepEqual(row?.split(/\s+/), ['nodehost-1', '62.1', '163.1', '163.1', '165.8', '10.3', '44.1', '60.4', '10.6', 's']);
  assert.doesNotMatch(text, / {2}- /);
  assert.equal(isConnectionsClean([held]), true);
});

test('formatConnectionsReport says so when a front could not hold every connection', () => {
  const short: ConnectionsFrontReport = {
    ...held,
    reached: 1000,
    kibPerConnection: undefined,
    failures: { 'read ECONNRESET': 9000 },
    fdLimits: { loader: 20000, host: 1024 },
  };
  const text = formatConnectionsReport([short]);
  const row = text.split('\n').find((l) => l.startsWith('nodehost-1'))!;
  // The peak is a real reading; the open reading and KiB per connection would be misleading.
  const cells = row.split(/\s{2,}/);
  assert.equal(cells[2], 'only 1000 open');
  assert.equal(cells[5], '-');
  assert.match(text, /nodehost-1: held 1000 of 10000 connections \(file limits: this process 20000, host 1024\)/);
  assert.match(text, /9000 × read ECONNRESET/);
  assert.equal(isConnectionsClean([short]), false);
});

test('formatConnectionsReport shows a front that did not start as not measured', () => {
  const failed: ConnectionsFrontReport = { ...held, front: 'nginx-1', reached: 0, kibPerConnection: undefined, error: 'nginx is not installed' };
  const text = formatConnectionsReport([held, failed]);
  assert.match(text.split('\n').find((l) => l.startsWith('nginx-1'))!, /^nginx-1(\s+-){8}$/);
  assert.match(text, /nginx-1: not measured, nginx is not installed/);
  assert.equal(isConnectionsClean([held, failed]), false);
});
