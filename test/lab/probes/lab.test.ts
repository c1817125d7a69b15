/** Lab (root): probes against a real probe server across shaped veth links in namespaces lwp-t-a/lwp-t-b (tbf rate, nft loss). */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execPath } from 'node:process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ProbeSample } from '../../../agent/core/types.ts';
import { createLab, LAB, labUnavailable, waitForOutput, type Lab } from '../../support/probes-lab.ts';

const CLI = fileURLToPath(new URL('../../support/probes-cli.ts', import.meta.url));
const LAB_CLIENT = fileURLToPath(new URL('../../support/probes-lab-client.ts', import.meta.url));
const TOKEN = 'lab-token-0123456789abcdef';
const PORT = 9781;
const SERVER = `http://${LAB.serverIp}:${PORT}/`;
/** tbf counts Ethernet frames: TCP goodput of a shaped link is rate × 1448 payload / 1514 frame bytes (MTU 1500, timestamps). */
const GOODPUT_SHARE = 1448 / 1514;

let lab: Lab | undefined;
let skipReason: string | null = null;
let tmp = '';

before(async () => {
  skipReason = await labUnavailable();
  if (skipReason && process.env.CI) assert.fail(`probes lab cannot run in CI: ${skipReason}`);
  if (skipReason) return;
  tmp = mkdtempSync(join(tmpdir(), 'lwp-lab-'));
  lab = await createLab('lwp-t-');
  const srv = lab.spawnIn(lab.b, execPath, [CLI, 'probe-server', '--listen', `${LAB.serverIp}:${PORT}`, '--token', TOKEN]);
  await waitForOutput(srv, /listening/, 15_000);
});
after(async () => {
  await lab?.destroy();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

interface DirectionSummary {
  payloadBytes: number;
  bytesUsed: number;
  stopReason: string;
  lowerBound: boolean;
  stalled: boolean;
  warmupMs: number;
  durationMs: number;
  latency?: { idleMs?: number; loadedMs?: number; loadedSamples: number; loadedLost: number; rpm?: number };
}

interface CliSummary {
  downloadMbps: number | null;
  uploadMbps: number | null;
  bytesUsed: number;
  download: DirectionSummary | null;
  upload: DirectionSummary | null;
  sourceAddress: string | null;
}

async function cli(l: Lab, args: string[]): Promise<CliSummary> {
  return JSON.parse(await l.exec(l.a, execPath, [CLI, 'probe', '--target', SERVER, '--token', TOKEN, '--json', ...args], 60_000)) as CliSummary;
}

async function labClient(l: Lab, spec: unknown): Promise<{ light: ProbeSample[]; throughput: { ran: boolean; skipped?: string; sample?: ProbeSample }[] }> {
  return JSON.parse(await l.exec(l.a, execPath, [LAB_CLIENT, JSON.stringify(spec)], 90_000)) as {
    light: ProbeSample[];
    throughput: { ran: boolean; skipped?: string }[];
  };
}

function labOrSkip(t: { skip(reason: string): void }): Lab | undefined {
  if (!lab) t.skip(`lab unavailable: ${skipReason ?? 'setup failed'}`);
  return lab;
}

for (const rate of [10, 2]) {
  test(`throughput within 10 % of a ${rate} Mbit/s tbf-shaped link (as TCP goodput), both directions`, async (t) => {
    const l = labOrSkip(t);
    if (!l) return;
    await l.shape(rate, 0);
    const r = await cli(l, []);
    t.diagnostic(`shaped ${rate}: down ${r.downloadMbps} up ${r.uploadMbps} bytes ${r.bytesUsed}`);
    for (const v of [r.downloadMbps, r.uploadMbps]) {
      assert.ok(v !== null, 'measured');
      assert.ok(Math.abs(v / (rate * GOODPUT_SHARE) - 1) <= 0.1, `${v} Mbit/s vs shaped ${rate} (goodput ${(rate * GOODPUT_SHARE).toFixed(2)})`);
    }
  });
}

test('loss is detected by UDP echo (0 % clean link, then 10 % nft random drop each way)', async (t) => {
  const l = labOrSkip(t);
  if (!l) return;
  const cfg = (n: number) => ({
    config: { probes: { targets: [`udp://${LAB.serverIp}:${PORT}`], token: TOKEN, timeoutMs: 300, windowPackets: 60 } },
    light: n,
  });
  await l.shape(null, 0);
  const clean = (await labClient(l, cfg(10))).light.at(-1) as ProbeSample;
  assert.equal(clean.lossPercent, 0);
  await l.shape(null, 10);
  const lossy = (await labClient(l, cfg(25))).light.at(-1) as ProbeSample;
  t.diagnostic(`loss ${lossy.lossPercent}% (expected ≈ 19 % round trip)`);
  assert.ok((lossy.lossPercent ?? 0) >= 4 && (lossy.lossPercent ?? 100) <= 45, `loss ${lossy.lossPercent}`);
  // Window figures (60 packets) exist whatever the last round did; rttMs is that round's median and is absent when
  // both of its 2 echoes were lost (≈ 3.6 % of rounds at 19 % round-trip loss), so it is not asserted here.
  assert.ok(lossy.jitterMs !== undefined && lossy.rttP95Ms !== undefined, `window figures missing: ${JSON.stringify(lossy)}`);
  await l.shape(null, 0);
});

test('one dead target among three keeps the link reachable; two dead do not', async (t) => {
  const l = labOrSkip(t);
  if (!l) return;
  await l.shape(null, 0);
  const base = { probes: { token: TOKEN, timeoutMs: 400 } };
  const one = (
    await labClient(l, {
      config: { probes: { ...base.probes, targets: [`linkward://${LAB.serverIp}:${PORT}`, `${LAB.serverIp}:${PORT}`, `tcp://${LAB.deadIp}:80`] } },
      light: 2,
    })
  ).light.at(-1) as ProbeSample;
  assert.equal(one.targetsTotal, 3);
  assert.equal(one.targetsUp, 2);
  assert.equal(one.reachable, true);
  const two = (
    await labClient(l, {
      config: { probes: { ...base.probes, targets: [`linkward://${LAB.serverIp}:${PORT}`, `tcp://${LAB.deadIp}:80`, `udp://${LAB.deadIp}:9781`] } },
      light: 2,
    })
  ).light.at(-1) as ProbeSample;
  assert.equal(two.targetsUp, 1);
  assert.equal(two.reachable, false);
});

test('the daily budget stops throughput probes (light probes keep running)', async (t) => {
  const l = labOrSkip(t);
  if (!l) return;
  await l.shape(10, 0);
  const out = await labClient(l, {
    config: {
      probes: { targets: [`linkward://${LAB.serverIp}:${PORT}`], token: TOKEN, throughput: { url: SERVER, maxBytes: 1_000_000 } },
      uplinks: [{ name: 'lte', metered: true, budgetBytesPerDay: 4_000_000 }],
    },
    throughput: 4,
    light: 1,
  });
  assert.equal(out.throughput[0]?.ran, true);
  assert.ok(
    out.throughput.some((x) => x.skipped === 'budget'),
    JSON.stringify(out.throughput.map((x) => x.skipped ?? 'ran')),
  );
  const used = out.throughput.reduce((s, x) => s + (x.sample?.bytesUsed ?? 0), 0);
  assert.ok(used <= 4_000_000, `throughput used ${used} of a 4 MB budget`);
  assert.equal(out.light[0]?.reachable, true, 'light probes still run after the budget is spent');
});

test('a probe bound to the second uplink leaves through that interface', async (t) => {
  const l = labOrSkip(t);
  if (!l) return;
  await l.shape(null, 0);
  const cfgPath = join(tmp, 'backup.yaml');
  writeFileSync(
    cfgPath,
    JSON.stringify({
      uplinks: [
        { name: 'primary', interface: 'lwp0' },
        { name: 'backup', interface: 'lwp1' },
      ],
    }),
  );
  const p0 = await l.counters('lwp0');
  const p1 = await l.counters('lwp1');
  const r = await cli(l, ['--uplink', 'backup', '--download', '--max-bytes', '2000000', '--config', cfgPath]);
  const q0 = await l.counters('lwp0');
  const q1 = await l.counters('lwp1');
  assert.equal(r.sourceAddress, LAB.client2Ip);
  const viaBackup = q1.rx - p1.rx;
  const viaPrimary = q0.rx - p0.rx;
  t.diagnostic(`rx lwp1 ${viaBackup} B, lwp0 ${viaPrimary} B, payload ${r.download?.payloadBytes}`);
  assert.ok(viaBackup >= (r.download?.payloadBytes ?? Infinity), 'download arrived on lwp1');
  assert.ok(viaPrimary < 20_000, 'nothing but stray packets on lwp0');
  // light probes of that uplink too (UDP echo + TCP connect)
  const b0 = await l.counters('lwp0');
  const b1 = await l.counters('lwp1');
  const light = await labClient(l, {
    config: {
      uplinks: [{ name: 'backup', interface: 'lwp1', targets: [`udp://${LAB.serverIp}:${PORT}`, `tcp://${LAB.serverIp}:${PORT}`] }],
      probes: { token: TOKEN },
    },
    light: 5,
  });
  const c0 = await l.counters('lwp0');
  const c1 = await l.counters('lwp1');
  assert.equal(light.light.at(-1)?.targetsUp, 2);
  assert.ok(c1.tx - b1.tx >= 5 * 2 * 58, `light probes sent ${c1.tx - b1.tx} B on lwp1`);
  assert.ok(c0.tx - b0.tx < 500, `light probes sent ${c0.tx - b0.tx} B on lwp0`);
});

test('a byte cap that ends the test before the estimate settles reports an honest lower bound', async (t) => {
  const l = labOrSkip(t);
  if (!l) return;
  await l.shape(20, 0);
  const goodput = 20 * GOODPUT_SHARE;
  const r = await cli(l, ['--max-bytes', '700000']);
  for (const [name, d, v] of [
    ['download', r.download, r.downloadMbps],
    ['upload', r.upload, r.uploadMbps],
  ] as const) {
    t.diagnostic(
      `${name}: ${v} Mbit/s, ${d?.stopReason}, lowerBound ${d?.lowerBound}, stalled ${d?.stalled}, warm-up ${d?.warmupMs} ms of ${d?.durationMs} ms, ${d?.bytesUsed} B`,
    );
    assert.ok(d && v !== null, `${name} measured`);
    assert.equal(d.stopReason, 'bytes');
    assert.equal(d.lowerBound, true, `${name}: a capped, unsettled figure is "at least"`);
    assert.ok(d.bytesUsed <= 700_000, `${name}: within the cap`);
    // honest, not artificially low: between half the goodput and a little above it; a stream waiting out a
    // retransmission timeout (≥ 200 ms of a ≈ 300 ms transfer; tbf drops at its queue limit) really does hold the
    // link's figure down, and the result says so (about 1 run in 40 here)
    assert.ok(v <= goodput * 1.1, `${name}: ${v} vs goodput ${goodput.toFixed(2)}`);
    if (!d.stalled) assert.ok(v >= goodput * 0.5, `${name}: ${v} vs goodput ${goodput.toFixed(2)} without a stall`);
  }
});

test('loaded latency: a tbf link with a 200 ms queue shows loaded RTT well above idle RTT, both directions', async (t) => {
  const l = labOrSkip(t);
  if (!l) return;
  await l.shape(10, 0, { queueMs: 200 });
  try {
    const r = await cli(l, []);
    for (const [name, d] of [
      ['download', r.download],
      ['upload', r.upload],
    ] as const) {
      const lat = d?.latency;
      t.diagnostic(
        `${name}: idle ${lat?.idleMs?.toFixed(2)} ms, loaded ${lat?.loadedMs?.toFixed(1)} ms (${lat?.loadedSamples} answered, ${lat?.loadedLost} lost), RPM ${lat?.rpm?.toFixed(0)}`,
      );
      assert.ok(lat && lat.idleMs !== undefined && lat.loadedMs !== undefined && lat.rpm !== undefined, `${name}: latency figures present`);
      assert.ok(lat.loadedSamples >= 3, `${name}: ≥ 3 loaded samples`);
      assert.ok(lat.loadedMs > lat.idleMs + 20, `${name}: loaded ${lat.loadedMs} vs idle ${lat.idleMs} (bufferbloat of a 200 ms queue)`);
    }
  } finally {
    await l.shape(null, 0);
  }
});
