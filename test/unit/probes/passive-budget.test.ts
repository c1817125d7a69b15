/** Unit tests of passive counters (parsing, rates, skip rule) and the daily budget arithmetic. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseProcNetDev, ratesBetween, readCounters, readLinkFacts, trafficProvesThresholds } from '../../../probes/passive.ts';
import { budgetView, msUntilNextUtcDay, throughputAllowance, utcDay } from '../../../probes/budget.ts';

const PROC = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 54474819    2628    0    0    0     0          0         0 54474819    2628    0    0    0     0       0          0
  eth0: 1250000000 900000 0 0 0 0 0 0 250000000 400000 0 0 0 0 0 0
`;

test('parses /proc/net/dev and computes rates between readings', () => {
  const m = parseProcNetDev(PROC);
  assert.deepEqual(m.get('eth0'), { rxBytes: 1_250_000_000, txBytes: 250_000_000 });
  assert.equal(m.get('lo')?.rxBytes, 54_474_819);
  const r = ratesBetween({ rxBytes: 0, txBytes: 0 }, 0, { rxBytes: 12_500_000, txBytes: 1_250_000 }, 10_000);
  assert.deepEqual(r, { rxMbps: 10, txMbps: 1, intervalMs: 10_000 });
  assert.equal(ratesBetween({ rxBytes: 10, txBytes: 0 }, 0, { rxBytes: 5, txBytes: 0 }, 1000), undefined, 'counter reset');
  assert.equal(ratesBetween({ rxBytes: 0, txBytes: 0 }, 5, { rxBytes: 5, txBytes: 0 }, 5), undefined);
});

test('traffic proves thresholds only when every configured threshold is met', () => {
  const r = { rxMbps: 12, txMbps: 0.5, intervalMs: 60_000 };
  assert.equal(trafficProvesThresholds(r, 10, undefined), true);
  assert.equal(trafficProvesThresholds(r, 10, 1), false);
  assert.equal(trafficProvesThresholds(r, undefined, undefined), false);
  assert.equal(trafficProvesThresholds(undefined, 1, 1), false);
});

test('reads counters and link facts from injected files (real fs)', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lwp-passive-'));
  try {
    writeFileSync(join(dir, 'dev'), PROC);
    mkdirSync(join(dir, 'net', 'eth0'), { recursive: true });
    writeFileSync(join(dir, 'net', 'eth0', 'carrier'), '1\n');
    assert.equal((await readCounters(join(dir, 'dev'))).size, 2);
    assert.equal((await readLinkFacts('eth0', join(dir, 'net'))).carrier, true);
    const lo = await readLinkFacts('lo');
    assert.ok(lo.operstate === undefined || typeof lo.operstate === 'string');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('UTC day keys and refill time', () => {
  const t = Date.UTC(2026, 10, 22, 23, 59, 0);
  assert.equal(utcDay(t), '2026-11-22');
  assert.equal(utcDay(t + 60_000), '2026-11-23');
  assert.equal(msUntilNextUtcDay(t), 60_000);
});

test('throughput allowance keeps a light reserve and refuses useless probes', () => {
  assert.equal(throughputAllowance(budgetView(50_000_000, 0), 2, 8_000_000, 500_000), 8_000_000);
  // 10 MB budget, 4 MB used: spendable = 6 - 1 = 5 MB over 2 directions
  assert.equal(throughputAllowance(budgetView(10_000_000, 4_000_000), 2, 8_000_000, 500_000), 2_500_000);
  assert.equal(throughputAllowance(budgetView(10_000_000, 8_500_000), 2, 8_000_000, 500_000), 0);
  assert.equal(throughputAllowance(budgetView(10_000_000, 12_000_000), 1, 8_000_000, 500_000), 0);
  assert.equal(budgetView(10, 12).remainingBytes, 0);
});
