/** Unit tests of passive counters (parsing, rates, skip rule) and the daily budget arithmetic. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseProcNetDev, parseProcNetWireless, ratesBetween, readCounters, readLinkFacts, trafficProvesThresholds } from '../../../probes/passive.ts';
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

/** /proc/net/wireless as the kernel prints it: two header lines, then one line per wireless interface. */
const WIRELESS = `Inter-| sta-|   Quality        |   Discarded packets               | Missed | WE
 face | tus | link level noise |  nwid  crypt   frag  retry   misc | beacon | 22
 wlan0: 0000   70.  -40.  -256        0      0      0      0      0        0
 wlan1: 0000    0.    0.  -256        0      0      0      0      0        0
 wlan2: 0000   45.   62.     0        0      0      0      0      0        0
`;

test('Wi-Fi signal from /proc/net/wireless: only levels that read as dBm', () => {
  const m = parseProcNetWireless(WIRELESS);
  assert.equal(m.get('wlan0'), -40);
  assert.equal(m.has('wlan1'), false, 'not associated: 0 is no signal figure');
  assert.equal(m.has('wlan2'), false, 'a relative 0-100 scale is not dBm');
  assert.equal(parseProcNetWireless('').size, 0);
});

test('link facts from a sysfs tree: operstate, speed, carrier, Wi-Fi signal; unknown speed and no signal left out', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'lwp-facts-'));
  try {
    const iface = (name: string, files: Record<string, string>): void => {
      mkdirSync(join(dir, 'net', name), { recursive: true });
      for (const [f, text] of Object.entries(files)) {
        if (f === 'phy80211') mkdirSync(join(dir, 'net', name, f));
        else writeFileSync(join(dir, 'net', name, f), text);
      }
    };
    iface('eth0', { operstate: 'up\n', speed: '1000\n', carrier: '1\n' });
    iface('veth0', { operstate: 'up\n', speed: '-1\n', carrier: '1\n' });
    iface('wlan0', { operstate: 'up\n', carrier: '1\n', phy80211: '' });
    iface('eth1', { operstate: 'down\n' }); // speed and carrier unreadable while down (EINVAL)
    writeFileSync(join(dir, 'wireless'), WIRELESS);
    const facts = (name: string) => readLinkFacts(name, join(dir, 'net'), join(dir, 'wireless'));
    assert.deepEqual(await facts('eth0'), { operstate: 'up', speedMbps: 1000, carrier: true });
    assert.deepEqual(await facts('veth0'), { operstate: 'up', carrier: true });
    assert.deepEqual(await facts('wlan0'), { operstate: 'up', wifiSignalDbm: -40, carrier: true });
    assert.deepEqual(await facts('eth1'), { operstate: 'down', carrier: false });
    assert.deepEqual(await facts('gone0'), {});
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
