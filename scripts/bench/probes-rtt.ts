// Benchmark (npm run bench:probes-rtt): the agent's speed tests on long round trips, rate and RTT drawn per run, vs iperf3 -P 4; would it vouch "slow"?
// Needs root, iproute2, nftables, iperf3, python3 (the delay line: no netem on this kernel). Namespaces lwp-rb-{a,m,b}, always removed.
// Options: --runs N (8) --seed S --min-rate/--max-rate Mbit/s (1/60, log-uniform) --min-rtt/--max-rtt ms (20/700, log-uniform)
//          --cpu-burn (also with a burner per core at the probe's priority) --burn-only
import { execPath } from 'node:process';
import { fileURLToPath } from 'node:url';
import { run } from '../../agent/base/exec.ts';
import { lowCanCount } from '../../probes/saturation.ts';
import { startBurners } from '../../test/support/cpu-burners.ts';
import { createDelayLab, DELAY_LAB } from '../../test/support/delay-lab.ts';
import { prng } from '../../test/support/link-samples.ts';
import { labUnavailable, waitForOutput } from '../../test/support/probes-lab.ts';

const CLI = fileURLToPath(new URL('../../test/support/probes-cli.ts', import.meta.url));
const TOKEN = 'bench-token-0123456789abcdef';
const PORT = 9781;
/** The default degraded enter value (Mbit/s): two agreeing readings below it that the agent vouches for degrade the uplink. */
const DEGRADED_ENTER_MBPS = 5;
/** A "slow" verdict on a link iperf3 measures this much above the degraded level is a false one. */
const FALSE_SLOW_MARGIN = 1.2;

const args = process.argv.slice(2);
const opt = (name: string, def: string): string => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? def) : def;
};
const RUNS = Number(opt('runs', '8'));
const SEED = Number(opt('seed', String(Math.floor(Math.random() * 2 ** 31))));
const [MIN_RATE, MAX_RATE] = [Number(opt('min-rate', '1')), Number(opt('max-rate', '60'))];
const [MIN_RTT, MAX_RTT] = [Number(opt('min-rtt', '20')), Number(opt('max-rtt', '700'))];
const MODES = args.includes('--burn-only') ? ['burn'] : args.includes('--cpu-burn') ? ['quiet', 'burn'] : ['quiet'];

const rand = prng(SEED);
const logUniform = (lo: number, hi: number): number => Math.round(100 * Math.exp(Math.log(lo) + rand() * Math.log(hi / lo))) / 100;
const draws = Array.from({ length: RUNS }, () => ({ rate: logUniform(MIN_RATE, MAX_RATE), rtt: Math.round(logUniform(MIN_RTT, MAX_RTT)) }));
console.error(`bench:probes-rtt seed ${SEED}, modes ${MODES.join(',')}: ${draws.map((d) => `${d.rate} Mbit/s @ ${d.rtt} ms`).join(', ')}`);

const why = await labUnavailable();
if (why) {
  console.error(`bench:probes-rtt cannot run: ${why}`);
  process.exit(2);
}
for (const [cmd, pkg] of [
  ['iperf3', 'iperf3'],
  ['python3', 'python3'],
]) {
  try {
    await run(cmd as string, ['--version']);
  } catch {
    console.error(`bench:probes-rtt needs ${cmd}: apt-get install -y ${pkg}`);
    process.exit(2);
  }
}

interface Reading {
  mbps?: number;
  lowerBound: boolean;
  ramping?: boolean;
  stopReason: string;
  durationMs: number;
  bytesUsed: number;
  latency?: { idleMs?: number; loadedMs?: number; loadedSamples: number; loadedLost: number };
}

const S = DELAY_LAB.serverIp;
const lab = await createDelayLab('lwp-rb-', draws[0]?.rtt ?? 100);
const rows: Record<string, unknown>[] = [];
try {
  const srv = lab.spawnIn(lab.b, execPath, [CLI, 'probe-server', '--listen', `${S}:${PORT}`, '--token', TOKEN]);
  await waitForOutput(srv, /listening/, 15_000);
  lab.spawnIn(lab.b, 'iperf3', ['-s', '-B', S]);
  await new Promise((r) => setTimeout(r, 500));
  for (const { rate, rtt } of draws) {
    await lab.setRtt(rtt);
    await lab.shape(rate, 0);
    for (const dir of ['down', 'up'] as const) {
      const ip = JSON.parse(await lab.exec(lab.a, 'iperf3', ['-c', S, '-P', '4', '-t', '8', '-O', '3', '-J', ...(dir === 'down' ? ['-R'] : [])], 40_000));
      const iperf3 = ip.end.sum_received.bits_per_second / 1e6;
      for (const mode of MODES) {
        const burners = mode === 'burn' ? startBurners() : null;
        const readings: Reading[] = [];
        try {
          // two readings: what measure() has when it confirms a bad-news figure
          for (let i = 0; i < 2; i++) {
            const out = JSON.parse(
              await lab.exec(
                lab.a,
                execPath,
                [CLI, 'probe', '--target', `http://${S}:${PORT}/`, '--token', TOKEN, '--json', `--${dir === 'down' ? 'download' : 'upload'}`],
                90_000,
                [0, 1],
              ),
            );
            readings.push(dir === 'down' ? out.download : out.upload);
          }
        } finally {
          burners?.stop();
        }
        const counts = (r: Reading): boolean => !r.lowerBound || lowCanCount(r, rtt);
        const vouchedSlow = readings.every((r) => r.mbps !== undefined && r.mbps < DEGRADED_ENTER_MBPS && counts(r));
        const row = {
          mode,
          rateMbit: rate,
          rttMs: rtt,
          direction: dir,
          iperf3Mbps: Number(iperf3.toFixed(2)),
          readings: readings.map((r) => ({
            mbps: r.mbps === undefined ? null : Number(r.mbps.toFixed(2)),
            lowerBound: r.lowerBound,
            ramping: r.ramping === true,
            stop: r.stopReason,
            durationS: Number((r.durationMs / 1000).toFixed(2)),
            mb: Number((r.bytesUsed / 1e6).toFixed(2)),
            idleRttMs: r.latency?.idleMs === undefined ? null : Math.round(r.latency.idleMs),
            loadedRttMs: r.latency?.loadedMs === undefined ? null : Math.round(r.latency.loadedMs),
            counts: counts(r),
          })),
          vouchedSlow,
          falseSlow: vouchedSlow && iperf3 >= FALSE_SLOW_MARGIN * DEGRADED_ENTER_MBPS,
          missedSlow: !vouchedSlow && iperf3 < DEGRADED_ENTER_MBPS / FALSE_SLOW_MARGIN,
        };
        rows.push(row);
        console.log(JSON.stringify(row));
      }
    }
  }
} finally {
  await lab.destroy();
}
for (const mode of MODES) {
  const g = rows.filter((r) => r.mode === mode);
  const n = (k: string): number => g.filter((r) => r[k] === true).length;
  console.log(
    JSON.stringify({
      kind: 'summary',
      seed: SEED,
      mode,
      directions: g.length,
      vouchedSlow: n('vouchedSlow'),
      falseSlow: n('falseSlow'),
      missedSlow: n('missedSlow'),
    }),
  );
}
