// Benchmark of the probes (npm run bench:probes): throughput vs iperf3 -P 4 at random rates/loss (quiet and CPU-saturated), bytes used, loaded RTT, light-monitoring bytes/day.
// Needs root, iproute2, nftables, iperf3. Creates namespaces lwp-bench-a/b (--lab PREFIX) and always removes them.
import { printGoal } from './probes-goal.mjs';
import { execPath } from 'node:process';
import { spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLab, LAB, labUnavailable, waitForOutput } from '../../test/support/probes-lab.ts';
import { prng } from '../../test/support/link-samples.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CLI = `${ROOT}test/support/probes-cli.ts`;
const LAB_CLIENT = `${ROOT}test/support/probes-lab-client.ts`;
const TOKEN = 'bench-token-0123456789abcdef';
const PORT = 9781;
const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
/** Fixed grid (the old behaviour) when --rates is given; otherwise --runs random draws per mode. */
const GRID = opt('rates', '') !== '';
const RATES = opt('rates', '2,10,50').split(',').map(Number);
const LOSSES = opt('losses', '0,2').split(',').map(Number);
const REPS = Number(opt('reps', '1'));
const DIRS = opt('dirs', 'down,up').split(',');
/** Random draws: rate log-uniform in [--min-rate, --max-rate] Mbit/s, loss uniform in [0, --max-loss] %. */
const RUNS = Number(opt('runs', '8'));
const MIN_RATE = Number(opt('min-rate', '1'));
const MAX_RATE = Number(opt('max-rate', '100'));
const MAX_LOSS = Number(opt('max-loss', '2'));
const SEED = Number(opt('seed', String(Math.floor(Math.random() * 2 ** 31))));
/** Every run quiet; with --cpu-burn also with every core saturated (--burn-only: only that). */
/** Busy loops per core in the burn mode: 1 saturates; more make the agent wait in a run queue (k3s pods on every core). */
const BURNERS_PER_CORE = Number(opt('burners-per-core', '1'));
const MODES = args.includes('--burn-only') ? ['burn'] : args.includes('--cpu-burn') ? ['quiet', 'burn'] : ['quiet'];
const PRESETS = opt('presets', 'linkward').split(',');
/** tbf queue (ms at the rate): the lab's 50 ms unless asked. */
const QUEUE_MS = Number(opt('queue-ms', '50'));
/** iperf3 reference: 4 streams, N s measured after 1 s omitted (slow start), JSON. */
const IPERF_SECONDS = Number(opt('iperf-seconds', '10'));
const RECORD = opt('record', '');
/** Light rounds measured for the bytes/day figure (0: skip). */
const LIGHT_ROUNDS = Number(opt('light-rounds', '20'));
/**
 * iperf3 reference runs per profile and direction: 2 (default) brackets the probes with one run before and one after
 * and compares against their mean (single iperf3 runs on a lossy link differ by up to 8 %); 1 is the old single run.
 */
const REFS = Number(opt('refs', '2'));
/**
 * Interleaved A/B of the download timing (order rotating per profile): `read` = bytes the client read
 * (LINKWARD_TCP_INFO=off), `bytes` = the kernel's in-order bytes (=bytes), `sync` = the kernel's in-sync points
 * (=on; probes/throughput.ts DEFAULT_DOWNLOAD_TIMING says which one linkward uses by default), `default` = whatever the
 * environment gives. E.g. --variants read,sync.
 */
const VARIANTS = opt('variants', 'default').split(',');
const VARIANT_ENV = { read: ['LINKWARD_TCP_INFO=off'], bytes: ['LINKWARD_TCP_INFO=bytes'], sync: ['LINKWARD_TCP_INFO=on'], default: [] };
/** Namespace prefix (must start with lwp-): a unique one per session when several labs run on one host. */
const LAB_PREFIX = opt('lab', 'lwp-bench-');

const rand = prng(SEED);
const round2 = (x) => Math.round(x * 100) / 100;
const PROFILES = GRID
  ? RATES.flatMap((rate) => LOSSES.map((loss) => ({ rate, loss })))
  : Array.from({ length: RUNS }, () => ({
      rate: round2(Math.exp(Math.log(MIN_RATE) + rand() * Math.log(MAX_RATE / MIN_RATE))),
      loss: round2(rand() * MAX_LOSS),
    }));
console.error(
  `bench:probes ${GRID ? 'grid' : `seed ${SEED}`}${MODES.includes('burn') ? `, ${BURNERS_PER_CORE} burner(s) per core` : ''}: profiles ${PROFILES.map((p) => `${p.rate} Mbit/s ${p.loss}%`).join(', ')}; modes ${MODES.join(',')}; presets ${PRESETS.join(',')}; variants ${VARIANTS.join(',')}; iperf3 refs ${REFS}`,
);

/** Busy-loop processes on every core, at the probe's own nice level (inherited), killed by the returned function. */
function burnCpu() {
  const kids = Array.from({ length: availableParallelism() * BURNERS_PER_CORE }, () => spawn(execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  return () => {
    for (const k of kids) k.kill('SIGKILL');
  };
}
const TARGETS = {
  linkward: { path: '', args: [] },
  librespeed: { path: 'backend/', args: ['--preset', 'librespeed'] },
  cloudflare: { path: '', args: ['--preset', 'cloudflare'] },
};

const why = await labUnavailable();
if (why) {
  console.error(`bench:probes cannot run: ${why}`);
  process.exit(2);
}
try {
  await (await import('../../agent/base/exec.ts')).run('iperf3', ['--version']);
} catch {
  console.error('bench:probes needs iperf3: apt-get install -y iperf3');
  process.exit(2);
}

const lab = await createLab(LAB_PREFIX);
const rows = [];
const emit = (row) => {
  rows.push(row);
  console.log(JSON.stringify(row));
};
const wire = async (fn) => {
  const a = await lab.counters('lwp0');
  const r = await fn();
  const b = await lab.counters('lwp0');
  return { r, wireBytes: b.rx - a.rx + (b.tx - a.tx) };
};
try {
  const srv = lab.spawnIn(lab.b, execPath, [CLI, 'probe-server', '--listen', `${LAB.serverIp}:${PORT}`, '--token', TOKEN]);
  await waitForOutput(srv, /listening/, 15_000);
  lab.spawnIn(lab.b, 'iperf3', ['-s', '-B', LAB.serverIp]);
  await new Promise((r) => setTimeout(r, 500));
  const iperf = async (dir) => {
    const ip = await wire(async () =>
      JSON.parse(
        await lab.exec(
          lab.a,
          'iperf3',
          ['-c', LAB.serverIp, '-P', '4', '-t', String(IPERF_SECONDS), '-O', '1', '-J', ...(dir === 'down' ? ['-R'] : [])],
          (IPERF_SECONDS + 20) * 1000,
        ),
      ),
    );
    return { mbps: ip.r.end.sum_received.bits_per_second / 1e6, wireBytes: ip.wireBytes };
  };
  for (const [pi, { rate, loss }] of PROFILES.entries()) {
    await lab.shape(rate, loss, { queueMs: QUEUE_MS });
    for (let rep = 0; rep < REPS; rep++) {
      for (const dir of DIRS) {
        const before = await iperf(dir);
        const probes = [];
        // interleaved A/B: the variants' order rotates per profile and rep
        const shift = (pi + rep) % VARIANTS.length;
        const variants = [...VARIANTS.slice(shift), ...VARIANTS.slice(0, shift)];
        for (const mode of MODES) {
          for (const preset of PRESETS) {
            for (const variant of variants) {
              const t = TARGETS[preset];
              const unburn = mode === 'burn' ? burnCpu() : () => undefined;
              let lw;
              try {
                lw = await wire(async () =>
                  JSON.parse(
                    await lab.exec(
                      lab.a,
                      'env',
                      [
                        ...VARIANT_ENV[variant],
                        execPath,
                        CLI,
                        'probe',
                        '--target',
                        `http://${LAB.serverIp}:${PORT}/${t.path}`,
                        ...t.args,
                        '--token',
                        TOKEN,
                        '--json',
                        dir === 'down' ? '--download' : '--upload',
                      ],
                      60_000,
                      [0, 1],
                    ),
                  ),
                );
              } finally {
                unburn();
              }
              probes.push({ mode, preset, variant, lw, load1: loadavg()[0] });
            }
          }
        }
        const after = REFS >= 2 ? await iperf(dir) : undefined;
        const iperfMbps = after ? (before.mbps + after.mbps) / 2 : before.mbps;
        for (const { mode, preset, variant, lw, load1 } of probes) {
          const res = dir === 'down' ? lw.r.download : lw.r.upload;
          const aside = dir === 'down' ? lw.r.downloadSetAside : lw.r.uploadSetAside;
          const mbps = res?.mbps ?? null;
          const err = (ref) => (mbps === null ? null : (100 * (mbps - ref)) / ref);
          emit({
            kind: 'throughput',
            seed: GRID ? null : SEED,
            profile: pi,
            mode,
            preset,
            variant,
            rateMbit: rate,
            lossPercent: loss,
            rep,
            direction: dir,
            linkwardMbps: mbps,
            iperf3Mbps: iperfMbps,
            iperf3BeforeMbps: before.mbps,
            iperf3AfterMbps: after?.mbps ?? null,
            errorPercent: err(iperfMbps),
            errorVsBeforePercent: err(before.mbps),
            kernelCounters: res?.kernelCounters ?? null,
            lowerBound: res?.lowerBound ?? null,
            stalled: res?.stalled ?? null,
            // why the agent would not vouch for this figure (starved, cpu_bound, stalled...), null when it does
            setAside: aside?.reason ?? null,
            setAsideDetail: aside?.detail ?? null,
            idleRttMs: res?.latency?.idleMs ?? null,
            loadedRttMs: res?.latency?.loadedMs ?? null,
            linkwardDurationMs: res?.durationMs,
            stopReason: res?.stopReason,
            linkwardBytesCounted: lw.r.bytesUsed,
            linkwardWireBytes: lw.wireBytes,
            iperf3WireBytes: before.wireBytes,
            goalBytes: Math.min(8e6, (2.5 * iperfMbps * 1e6) / 8),
            load1,
          });
        }
        if (RECORD) {
          mkdirSync(RECORD, { recursive: true });
          const full = JSON.parse(
            await lab.exec(lab.a, execPath, [`${ROOT}scripts/bench/probes-record.ts`, `http://${LAB.serverIp}:${PORT}/`, dir, TOKEN], 60_000),
          );
          writeFileSync(
            `${RECORD}/lab-${rate}mbit-${loss}loss-${dir}.json`,
            JSON.stringify({
              note: `recorded by bench:probes: ${rate} Mbit/s tbf, ${loss}% loss, 4 streams, ${dir}; iperf3 -P 4 on the same link, same run`,
              iperf3Mbps: iperfMbps,
              series: full,
            }),
          );
        }
      }
    }
  }
  // light monitoring: bytes per round on the wire, per target kind, and per day at the default schedule
  await lab.shape(null, 0);
  // let connections of the last throughput runs drain, so their stragglers are not counted as light-probe bytes
  await new Promise((r) => setTimeout(r, 3_000));
  for (const target of LIGHT_ROUNDS > 0
    ? [`linkward://${LAB.serverIp}:${PORT}`, `${LAB.serverIp}:${PORT}`, `udp://${LAB.serverIp}:${PORT}`, `icmp://${LAB.serverIp}`]
    : []) {
    const cfg = { config: { probes: { targets: [target], token: TOKEN } }, light: LIGHT_ROUNDS };
    const m = await wire(async () => JSON.parse(await lab.exec(lab.a, execPath, [LAB_CLIENT, JSON.stringify(cfg)], 120_000)));
    const perRound = m.wireBytes / LIGHT_ROUNDS;
    const counted = m.r.light.reduce((s, x) => s + x.bytesUsed, 0) / LIGHT_ROUNDS;
    // default schedule: 5 s for the first minute, 10 s for the next, then 20 s (adaptive back-off, one target per round)
    const roundsPerDay = 12 + 6 + (86_400 - 120) / 20;
    emit({
      kind: 'light',
      target,
      wireBytesPerRound: perRound,
      countedBytesPerRound: counted,
      roundsPerDaySettled: roundsPerDay,
      bytesPerDaySettled: perRound * roundsPerDay,
      bytesPerDayAt5s: perRound * 17_280,
    });
  }
} finally {
  await lab.destroy();
}

const pick = (xs, p) => {
  const v = [...xs].sort((a, b) => a - b);
  return v.length === 0 ? null : v[Math.min(v.length - 1, Math.floor((p / 100) * v.length))];
};
const fmt = (x, d = 1) => (x === null || x === undefined ? 'n/a' : x.toFixed(d));
const all = rows.filter((r) => r.kind === 'throughput');
console.log(
  '\nmode  preset     variant  rate  loss dir   linkward  iperf3 (before/after)     err%  LB stall  dur s  wire MB  goal MB  counted MB  idle/loaded ms  stop       load1',
);
for (const r of all) {
  console.log(
    `${r.mode.padEnd(5)} ${r.preset.padEnd(10)} ${r.variant.padEnd(7)} ${r.rateMbit.toFixed(1).padStart(5)} ${r.lossPercent.toFixed(2).padStart(5)} ${r.direction.padEnd(4)} ${fmt(r.linkwardMbps, 2).padStart(8)} ${r.iperf3Mbps.toFixed(2).padStart(7)} (${fmt(r.iperf3BeforeMbps, 2)}/${fmt(r.iperf3AfterMbps, 2)}) ${fmt(r.errorPercent).padStart(6)} ${r.lowerBound ? ' ≥' : '  '} ${r.stalled ? ' yes ' : '     '} ${fmt((r.linkwardDurationMs ?? NaN) / 1000, 2).padStart(5)} ${(r.linkwardWireBytes / 1e6).toFixed(2).padStart(8)} ${(r.goalBytes / 1e6).toFixed(2).padStart(8)} ${(r.linkwardBytesCounted / 1e6).toFixed(2).padStart(11)} ${`${fmt(r.idleRttMs)}/${fmt(r.loadedRttMs)}`.padStart(15)}  ${String(r.stopReason).padEnd(10)} ${fmt(r.load1, 2)}`,
  );
}
console.log('\nsummary (per mode, preset, direction)');
for (const mode of MODES) {
  for (const preset of PRESETS) {
    for (const dir of DIRS) {
      for (const variant of VARIANTS) {
        const g = all.filter((r) => r.mode === mode && r.preset === preset && r.direction === dir && r.variant === variant);
        const ok = g.filter((r) => r.errorPercent !== null);
        const abs = ok.map((r) => Math.abs(r.errorPercent));
        const s = {
          kind: 'summary',
          mode,
          preset,
          direction: dir,
          runs: g.length,
          failed: g.length - ok.length,
          medianAbsErrorPercent: pick(abs, 50),
          p95AbsErrorPercent: pick(abs, 95),
          maxAbsErrorPercent: pick(abs, 100),
          overBytesGoal: g.filter((r) => r.linkwardWireBytes > r.goalBytes).length,
          maxWireOverGoal: Math.max(...g.map((r) => r.linkwardWireBytes / r.goalBytes)),
          wireOverCounted: [
            pick(
              g.map((r) => r.linkwardWireBytes / r.linkwardBytesCounted),
              0,
            ),
            pick(
              g.map((r) => r.linkwardWireBytes / r.linkwardBytesCounted),
              100,
            ),
          ],
          medianDurationMs: pick(
            g.map((r) => r.linkwardDurationMs ?? 0),
            50,
          ),
          maxDurationMs: pick(
            g.map((r) => r.linkwardDurationMs ?? 0),
            100,
          ),
          lowerBounds: g.filter((r) => r.lowerBound).length,
          stalled: g.filter((r) => r.stalled).length,
          signedMedianErrorPercent: pick(
            ok.map((r) => r.errorPercent),
            50,
          ),
          medianAbsErrorVsBeforePercent: pick(
            ok.map((r) => Math.abs(r.errorVsBeforePercent)),
            50,
          ),
          p95AbsErrorVsBeforePercent: pick(
            ok.map((r) => Math.abs(r.errorVsBeforePercent)),
            95,
          ),
          variant,
          seed: GRID ? null : SEED,
        };
        console.log(JSON.stringify(s));
        console.log(
          `${mode} ${preset} ${dir} ${variant}: median |err| ${fmt(s.medianAbsErrorPercent)} %, p95 ${fmt(s.p95AbsErrorPercent)} %, max ${fmt(s.maxAbsErrorPercent)} % (signed median ${fmt(s.signedMedianErrorPercent)} %; vs the run before only ${fmt(s.medianAbsErrorVsBeforePercent)} / ${fmt(s.p95AbsErrorVsBeforePercent)} %); over byte goal ${s.overBytesGoal}/${g.length} (max wire/goal ${fmt(s.maxWireOverGoal, 2)}); wire/counted ${fmt(s.wireOverCounted[0], 2)}–${fmt(s.wireOverCounted[1], 2)}; duration median ${fmt(s.medianDurationMs / 1000, 2)} s, max ${fmt(s.maxDurationMs / 1000, 2)} s; lower bounds ${s.lowerBounds}, stalled ${s.stalled}, failed ${s.failed}`,
        );
      }
    }
  }
}
printGoal(rows);
// What the agent vouches for: a figure it keeps must be right whatever the CPU; one it sets aside, or a lower bound (a
// test ended by a cap before its estimate settled), counts only as "at least" and must not overstate the link.
console.log("\nvouched for vs set aside or lower bound (the agent's own judgement, linkward probe)");
for (const mode of MODES) {
  const g = all.filter((r) => r.mode === mode && r.errorPercent !== null);
  const kept = g.filter((r) => r.setAside === null && !r.lowerBound).map((r) => Math.abs(r.errorPercent));
  const aside = g.filter((r) => r.setAside !== null);
  const bounds = g.filter((r) => r.setAside === null && r.lowerBound);
  const reasons = Object.entries(Object.groupBy(aside, (r) => r.setAside)).map(([k, v]) => `${k} ${v.length}`);
  const over = [...aside, ...bounds].filter((r) => r.errorPercent > 3).length;
  console.log(
    `${mode}${mode === 'burn' ? ` (${BURNERS_PER_CORE}/core)` : ''}: vouched ${kept.length}/${g.length}, |err| median ${fmt(pick(kept, 50))} %, max ${fmt(pick(kept, 100))} %, over 10 %: ${kept.filter((e) => e > 10).length}; set aside ${aside.length} (${reasons.join(', ') || 'none'}); lower bounds ${bounds.length}; of these two above the truth by > 3 %: ${over}`,
  );
}
console.log('\nlight target                       wire B/round  counted B/round  MB/day settled  MB/day at 5 s');
for (const r of rows.filter((x) => x.kind === 'light')) {
  console.log(
    `${r.target.padEnd(34)} ${r.wireBytesPerRound.toFixed(0).padStart(12)} ${r.countedBytesPerRound.toFixed(0).padStart(16)} ${(r.bytesPerDaySettled / 1e6).toFixed(2).padStart(15)} ${(r.bytesPerDayAt5s / 1e6).toFixed(2).padStart(14)}`,
  );
}
console.log(`\n${GRID ? 'grid' : `seed ${SEED}`} (repeat with --seed ${SEED})`);
