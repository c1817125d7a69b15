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
import { startBurners } from '../../support/cpu-burners.ts';
import { prng } from '../../support/link-samples.ts';

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

async function labClient(
  l: Lab,
  spec: unknown,
): Promise<{ light: ProbeSample[]; throughput: { ran: boolean; skipped?: string; sample?: ProbeSample; suspect?: { down?: string; up?: string } }[] }> {
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

/**
 * Rates drawn per run (not only the two above, which the code could be tuned to): log-uniform in 1.5–30 Mbit/s, through
 * the agent's own monitor, quiet and with a burner per core at its priority. The rule is the agent's: a figure it
 * vouches for is within 10 % of the shaped goodput; one it sets aside (starved, cpu_bound, stalled) counts only as a
 * lower bound, so it must not overstate the link. Quiet, nothing is set aside for the CPU. Rerun with PROBES_LAB_SEED.
 */
const RATE_RANGE_MBIT = [1.5, 30] as const;
/** Past the monitor's start-up warm-up (WARMUP_MS, 10 s): a figure taken in it is set aside by design. */
const SETTLE_MS = 10_500;
const seed = Number(process.env.PROBES_LAB_SEED ?? Math.floor(Math.random() * 1_000_000_000));
const rnd = prng(seed);
interface MonitorThroughput {
  ran: boolean;
  skipped?: string;
  sample?: ProbeSample;
  suspect?: { down?: string; up?: string };
  download?: unknown;
  upload?: unknown;
}
for (const busy of [false, true]) {
  const rate = Math.round(RATE_RANGE_MBIT[0] * (RATE_RANGE_MBIT[1] / RATE_RANGE_MBIT[0]) ** rnd() * 10) / 10;
  test(`the agent's figures at a drawn rate (${rate} Mbit/s): vouched for → within 10 %, set aside → never above${busy ? ', CPU burners on every core' : ''}`, {
    timeout: 90_000,
  }, async (t) => {
    const l = labOrSkip(t);
    if (!l) return;
    await l.shape(rate, 0);
    // Burners first: the monitor starts, settles and measures on a saturated CPU.
    const burners = busy ? startBurners() : null;
    t.after(() => burners?.stop());
    const out = await labClient(l, {
      config: { probes: { targets: [`linkward://${LAB.serverIp}:${PORT}`], token: TOKEN, throughput: { url: SERVER } } },
      light: 1,
      throughput: 1,
      settleMs: SETTLE_MS,
    });
    const r = out.throughput[0] as MonitorThroughput | undefined;
    assert.equal(r?.ran, true, `the test ran: ${JSON.stringify(r)}`);
    const goodput = rate * GOODPUT_SHARE;
    const figures = (['down', 'up'] as const).map((d) => ({
      d,
      v: d === 'down' ? r!.sample?.downloadMbps : r!.sample?.uploadMbps,
      aside: r!.suspect?.[d],
    }));
    t.diagnostic(
      `seed ${seed} (rerun: PROBES_LAB_SEED=${seed}); drew ${rate} Mbit/s (goodput ${goodput.toFixed(2)}) from ${RATE_RANGE_MBIT.join('–')}${burners ? `; ${burners.count} burners` : ''}: ${figures.map((f) => `${f.d} ${f.v?.toFixed(2)}${f.aside ? ` (set aside: ${f.aside})` : ''}`).join(', ')}`,
    );
    for (const f of figures) {
      assert.ok(f.v !== undefined, `${f.d}: no figure (${JSON.stringify(r)})`);
      if (f.aside) assert.ok(f.v <= goodput * 1.1, `${f.d}: a figure set aside (${f.aside}) must not overstate the link: ${f.v} vs ${goodput.toFixed(2)}`);
      else
        assert.ok(
          Math.abs(f.v / goodput - 1) <= 0.1,
          `${f.d}: vouched for ${f.v} Mbit/s vs goodput ${goodput.toFixed(2)} (shaped ${rate}), seed ${seed}: ${JSON.stringify(f.d === 'down' ? r!.download : r!.upload)}`,
        );
      // Quiet, a figure may be set aside for what the link did (a TCP stall: tail loss at tbf's queue ends in an RTO at
      // higher rates) or by the rule for a low first reading ('unconfirmed': a second test must agree), never for the CPU.
      if (!busy) assert.ok(!['starved', 'cpu_bound', 'warmup'].includes(f.aside ?? ''), `${f.d}: set aside (${f.aside}) on a quiet machine`);
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
