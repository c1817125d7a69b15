// Benchmark of uplink failover in the netns lab (root): impairment → detection → confirmed switch, restoration → failback.
// Usage: node scripts/bench/route.mjs [runs=5]   (prints JSON lines, then a table)
//        LWR_BURN=1: a busy loop on every core at the agent's priority for the whole run (test/support/cpu-burners.ts)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIRM, NS, PORT, TARGET, blackhole, createLab, removeLab, restore, throttle } from '../../test/support/route-lab.ts';
import { startBurners } from '../../test/support/cpu-burners.ts';

const RUNS = Number(process.argv[2] ?? 5);
/** LWR_PROBES=real: measure with the probes package + link-state machine (fast settings below) instead of the lab prober. */
const REAL = process.env.LWR_PROBES === 'real';
/** Fast-detection probe settings for the real probes: 500 ms rounds, 300 ms timeout, no dwell for worse verdicts. */
const PROBES = process.env.LWR_PROBE_DEFAULTS
  ? { targets: [`${TARGET}:${PORT}`], throughput: { enabled: false } }
  : {
      targets: [`${TARGET}:${PORT}`],
      intervalMs: 500,
      maxIntervalMs: 500,
      timeoutMs: 300,
      windowPackets: 4,
      throughput: { enabled: false },
      health: { dwell: { enterS: 1, exitS: 2 }, damping: { enabled: false } },
    };
/** Fast-detection settings (lab prober: 250 ms rounds, down after 2 failed connects, candidate after 2 good rounds). */
const POLICY = {
  candidateSamples: 2,
  confirmTimeout: 2000,
  revertGrace: 1000,
  failbackHold: 5000,
  degradedSwitchAfter: 1000,
  minSwitchInterval: 0,
  maxSwitchesPerHour: 1000,
  confirmTargets: [`${CONFIRM}:${PORT}`],
};
/** The real light probes do not measure throughput: only hard loss is benchmarked with them. */
const KINDS = REAL ? ['hard-loss'] : ['hard-loss', 'throttle'];
const AGENT = new URL('../../test/support/route-lab-agent.ts', import.meta.url).pathname;

if (process.getuid?.() !== 0) {
  console.error('bench:route needs root (ip netns, nft, tc)');
  process.exit(2);
}
const stateDir = mkdtempSync(join(tmpdir(), 'lwr-bench-'));
const events = [];
let agent;
let server;
let burners;
const cleanup = () => {
  burners?.stop();
  agent?.kill('SIGKILL');
  server?.kill('SIGKILL');
  removeLab();
  rmSync(stateDir, { recursive: true, force: true });
};
for (const sig of ['SIGINT', 'SIGTERM'])
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });
server = createLab();
try {
  await new Promise((r, j) => {
    server.stdout.once('data', r);
    setTimeout(() => j(new Error('target server did not start')), 5000);
  });
  const uplink = (name, dev, n) => ({
    name,
    interface: dev,
    gateway: `10.201.${n}.1`,
    sourceAddress: `10.201.${n}.2`,
    priority: n * 10,
    targets: [`${TARGET}:${PORT}`],
  });
  const config = {
    log: { level: process.env.LWR_LOG ?? 'warn' },
    ...(REAL ? { probes: PROBES } : {}),
    uplinks: { policy: POLICY, list: [uplink('wan', 'e1', 1), uplink('lte', 'e2', 2)] },
  };
  agent = spawn('ip', ['netns', 'exec', NS.edge, process.execPath, AGENT, stateDir, JSON.stringify(config)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: process.env,
  });
  let buf = '';
  agent.stdout.on('data', (d) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      events.push(JSON.parse(buf.slice(0, i)));
      buf = buf.slice(i + 1);
    }
  });
  const waitEvent = async (pred, sinceMs, ms) => {
    for (let i = 0; i < ms / 20; i++) {
      const e = events.find((x) => x.atMs >= sinceMs && pred(x));
      if (e) return e;
      await new Promise((r) => setTimeout(r, 20));
    }
    return null;
  };
  const ms = (e, t0) => (e ? e.atMs - t0 : null);
  if (!(await waitEvent((e) => e.event === 'active' && e.uplink === 'wan', 0, 10_000))) throw new Error('agent did not start on wan');
  await waitEvent((e) => e.event === 'health' && e.uplink === 'lte' && e.health === 'healthy', 0, 10_000);
  if (process.env.LWR_BURN) burners = startBurners();
  const results = [];
  for (let run = 1; run <= RUNS; run++) {
    for (const kind of KINDS) {
      await new Promise((r) => setTimeout(r, 1500));
      const t0 = Date.now();
      if (kind === 'hard-loss') blackhole(NS.gw1);
      else throttle(NS.gw1, '1mbit');
      const detected = await waitEvent((e) => e.event === 'health' && e.uplink === 'wan' && e.health !== 'healthy', t0, 60_000);
      const switched = await waitEvent((e) => e.event === 'active' && e.uplink === 'lte', t0, 60_000);
      const t1 = Date.now();
      restore(NS.gw1);
      const back = await waitEvent((e) => e.event === 'active' && e.uplink === 'wan', t1, 300_000);
      const r = {
        bench: 'route',
        run,
        kind,
        detectMs: ms(detected, t0),
        switchConfirmedMs: ms(switched, t0),
        failbackMs: ms(back, t1),
        failbackHoldMs: POLICY.failbackHold,
      };
      results.push(r);
      console.log(JSON.stringify(r));
    }
  }
  const stats = (xs) => {
    const v = xs.filter((x) => x !== null).sort((a, b) => a - b);
    if (v.length === 0) return 'n/a';
    const med = v[Math.floor((v.length - 1) / 2)];
    return `${med} / ${v[v.length - 1]} (n=${v.length}/${xs.length})`;
  };
  console.log(`\ncpu: ${burners ? `${burners.count} busy loops (one per core) at nice ${burners.nice}` : 'quiet'}`);
  console.log(`prober: ${REAL ? `probes package + link-state (${process.env.LWR_PROBE_DEFAULTS ? 'default settings' : 'fast settings'})` : 'lab prober'}`);
  console.log('kind        detect ms (median / max)   switch confirmed ms (median / max)   failback ms after restore (median / max; hold 5000)');
  for (const kind of KINDS) {
    const rs = results.filter((r) => r.kind === kind);
    console.log(
      `${kind.padEnd(11)} ${stats(rs.map((r) => r.detectMs)).padEnd(26)} ${stats(rs.map((r) => r.switchConfirmedMs)).padEnd(36)} ${stats(rs.map((r) => r.failbackMs))}`,
    );
  }
} finally {
  cleanup();
}
