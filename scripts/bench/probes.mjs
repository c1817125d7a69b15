// Benchmark of the probes (npm run bench:probes): linkward throughput vs iperf3 -P 4 on shaped lab links, bytes used, light-monitoring bytes/day.
// Needs root, iproute2, nftables, iperf3. Creates namespaces lwp-bench-a/b and always removes them.
import { execPath } from 'node:process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createLab, LAB, labUnavailable, waitForOutput } from '../../test/support/probes-lab.ts';

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
/** Profiles: rates (Mbit/s) × loss (%), as the issue asks. */
const RATES = opt('rates', '2,10,50').split(',').map(Number);
const LOSSES = opt('losses', '0,2').split(',').map(Number);
const REPS = Number(opt('reps', '1'));
const DIRS = opt('dirs', 'down,up').split(',');
/** iperf3 reference: 4 streams, 10 s measured after 1 s omitted (slow start), JSON. */
const IPERF_SECONDS = Number(opt('iperf-seconds', '10'));
const RECORD = opt('record', '');
/** Light rounds measured for the bytes/day figure. */
const LIGHT_ROUNDS = Number(opt('light-rounds', '20'));

const why = await labUnavailable();
if (why) {
  console.error(`bench:probes cannot run: ${why}`);
  process.exit(2);
}
try {
  await (await import('../../agent/exec.ts')).run('iperf3', ['--version']);
} catch {
  console.error('bench:probes needs iperf3: apt-get install -y iperf3');
  process.exit(2);
}

const lab = await createLab('lwp-bench-');
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
  for (const rate of RATES) {
    for (const loss of LOSSES) {
      await lab.shape(rate, loss);
      for (let rep = 0; rep < REPS; rep++) {
        for (const dir of DIRS) {
          const lw = await wire(async () => JSON.parse(await lab.exec(lab.a, execPath, [CLI, 'probe', '--target', `http://${LAB.serverIp}:${PORT}/`, '--token', TOKEN, '--json', dir === 'down' ? '--download' : '--upload'], 60_000)));
          const ip = await wire(async () => JSON.parse(await lab.exec(lab.a, 'iperf3', ['-c', LAB.serverIp, '-P', '4', '-t', String(IPERF_SECONDS), '-O', '1', '-J', ...(dir === 'down' ? ['-R'] : [])], (IPERF_SECONDS + 20) * 1000)));
          const res = dir === 'down' ? lw.r.download : lw.r.upload;
          const iperfMbps = ip.r.end.sum_received.bits_per_second / 1e6;
          const mbps = dir === 'down' ? lw.r.downloadMbps : lw.r.uploadMbps;
          emit({
            kind: 'throughput', rateMbit: rate, lossPercent: loss, rep, direction: dir,
            linkwardMbps: mbps, iperf3Mbps: iperfMbps, errorPercent: mbps === null ? null : (100 * (mbps - iperfMbps)) / iperfMbps,
            linkwardDurationMs: res?.durationMs, stopReason: res?.stopReason, linkwardBytesCounted: res?.bytesUsed, linkwardWireBytes: lw.wireBytes, iperf3WireBytes: ip.wireBytes,
            goalBytes: Math.min(8e6, (2.5 * iperfMbps * 1e6) / 8),
          });
          if (RECORD && res) {
            mkdirSync(RECORD, { recursive: true });
            const full = JSON.parse(await lab.exec(lab.a, execPath, [`${ROOT}scripts/bench/probes-record.ts`, `http://${LAB.serverIp}:${PORT}/`, dir, TOKEN], 60_000));
            writeFileSync(`${RECORD}/lab-${rate}mbit-${loss}loss-${dir}.json`, JSON.stringify({ note: `recorded by bench:probes: ${rate} Mbit/s tbf, ${loss}% loss, 4 streams, ${dir}; iperf3 -P 4 on the same link, same run`, iperf3Mbps: iperfMbps, series: full }));
          }
        }
      }
    }
  }
  // light monitoring: bytes per round on the wire, per target kind, and per day at the default schedule
  await lab.shape(null, 0);
  // let connections of the last throughput runs drain, so their stragglers are not counted as light-probe bytes
  await new Promise((r) => setTimeout(r, 3_000));
  for (const target of [`linkward://${LAB.serverIp}:${PORT}`, `${LAB.serverIp}:${PORT}`, `udp://${LAB.serverIp}:${PORT}`, `icmp://${LAB.serverIp}`]) {
    const cfg = { config: { probes: { targets: [target], token: TOKEN } }, light: LIGHT_ROUNDS };
    const m = await wire(async () => JSON.parse(await lab.exec(lab.a, execPath, [LAB_CLIENT, JSON.stringify(cfg)], 120_000)));
    const perRound = m.wireBytes / LIGHT_ROUNDS;
    const counted = m.r.light.reduce((s, x) => s + x.bytesUsed, 0) / LIGHT_ROUNDS;
    // default schedule: 5 s for the first minute, 10 s for the next, then 20 s (adaptive back-off, one target per round)
    const roundsPerDay = 12 + 6 + (86_400 - 120) / 20;
    emit({ kind: 'light', target, wireBytesPerRound: perRound, countedBytesPerRound: counted, roundsPerDaySettled: roundsPerDay, bytesPerDaySettled: perRound * roundsPerDay, bytesPerDayAt5s: perRound * 17_280 });
  }
} finally {
  await lab.destroy();
}

const t = rows.filter((r) => r.kind === 'throughput' && r.errorPercent !== null);
const abs = t.map((r) => Math.abs(r.errorPercent)).sort((a, b) => a - b);
const pct = (p) => abs[Math.min(abs.length - 1, Math.floor((p / 100) * abs.length))];
const stops = {};
for (const r of t) stops[r.stopReason] = (stops[r.stopReason] ?? 0) + 1;
const summary = {
  kind: 'summary', comparisons: t.length, medianAbsErrorPercent: pct(50), p95AbsErrorPercent: pct(95), maxAbsErrorPercent: abs.at(-1), overBytesGoal: t.filter((r) => r.linkwardWireBytes > r.goalBytes).length,
  maxWireOverGoal: Math.max(...t.map((r) => r.linkwardWireBytes / r.goalBytes)), stops,
};
console.log(JSON.stringify(summary));
console.log('\nrate  loss dir   linkward  iperf3   err%   lw wire MB  goal MB  lw counted MB  iperf3 wire MB  stop');
for (const r of rows.filter((x) => x.kind === 'throughput')) {
  console.log(`${String(r.rateMbit).padStart(4)}  ${String(r.lossPercent).padStart(3)}% ${r.direction.padEnd(4)} ${String(r.linkwardMbps?.toFixed(2)).padStart(8)} ${r.iperf3Mbps.toFixed(2).padStart(8)} ${String(r.errorPercent?.toFixed(1)).padStart(6)} ${(r.linkwardWireBytes / 1e6).toFixed(2).padStart(11)} ${(r.goalBytes / 1e6).toFixed(2).padStart(8)} ${(r.linkwardBytesCounted / 1e6).toFixed(2).padStart(14)} ${(r.iperf3WireBytes / 1e6).toFixed(2).padStart(15)}  ${r.stopReason}`);
}
console.log('\nlight target                       wire B/round  counted B/round  MB/day settled  MB/day at 5 s');
for (const r of rows.filter((x) => x.kind === 'light')) {
  console.log(`${r.target.padEnd(34)} ${r.wireBytesPerRound.toFixed(0).padStart(12)} ${r.countedBytesPerRound.toFixed(0).padStart(16)} ${(r.bytesPerDaySettled / 1e6).toFixed(2).padStart(15)} ${(r.bytesPerDayAt5s / 1e6).toFixed(2).padStart(14)}`);
}
console.log(`\nmedian |err| ${summary.medianAbsErrorPercent?.toFixed(1)} %, p95 |err| ${summary.p95AbsErrorPercent?.toFixed(1)} %, over byte goal: ${summary.overBytesGoal}/${t.length} (highest wire/goal ${summary.maxWireOverGoal.toFixed(3)}), stops ${JSON.stringify(stops)}`);
