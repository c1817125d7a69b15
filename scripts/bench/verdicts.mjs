// Benchmark of verdict trust (npm run bench:verdicts): false worsening verdicts and route switches on a healthy link, and time to
// detect a cut, with the built agent (dist/linkward.mjs run) in lwt-b-* namespaces and CPU burners on every core at its priority.
// Needs root, iproute2, nftables and `npm run build`. Always removes its namespaces (also on failure and SIGINT).
// Options: --minutes N (healthy window, default 10), --cuts N (per profile, default 3), --seed S, --quiet (no burners),
//          --profiles fast,defaults, --throughput-cron EXPR (scheduled tests during the healthy window, default every minute),
//          --burners-per-core K (default 1: one busy loop per core, as issue 9 asks).
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { startBurners } from '../../test/support/cpu-burners.ts';
import { buildInfo, cleanupOnSignal, createTrustLab, metricSum, siteConfig, sleep, trustLabUnavailable } from '../../test/support/trust-lab.ts';
import { prng } from '../../test/support/link-samples.ts';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const MINUTES = Number(opt('minutes', '10'));
const CUTS = Number(opt('cuts', '3'));
const SEED = Number(opt('seed', String(Math.floor(Math.random() * 2 ** 31))));
const QUIET = args.includes('--quiet');
const PROFILES = opt('profiles', 'fast,defaults').split(',');
const CRON = opt('throughput-cron', '* * * * *');
const PER_CORE = Number(opt('burners-per-core', '1'));
/** Healthy links are drawn in this range: well above the download degraded exit (6 Mbit/s), so any worsening is false. */
const RATE_MIN_MBIT = 10;
const RATE_MAX_MBIT = 100;
/** Settle time before a cut, drawn per run: fast — a few rounds at 0.5 s; defaults — past the minute of clean rounds that backs
 * the interval off to maxIntervalMs (20 s), so the cut lands at a random phase of the settled schedule. */
const SETTLE_MS = { fast: [5_000, 15_000], defaults: [65_000, 90_000] };
/** Goals from issue 9. */
const GOAL_MS = { fast: 5_000, defaults: 20_000 };
/** Bound on waiting for a cut to be seen (a miss is reported, not waited for forever). */
const DETECT_LIMIT_MS = 60_000;
const FIRST_HEALTHY_LIMIT_MS = 60_000;
const POLL_MS = 250;

const why = trustLabUnavailable();
if (why) {
  console.error(`bench:verdicts cannot run: ${why}`);
  process.exit(2);
}
if (!(MINUTES > 0) || !(CUTS >= 0)) {
  console.error('bench:verdicts: --minutes must be > 0 and --cuts ≥ 0');
  process.exit(2);
}

const rand = prng(SEED);
const draw = (lo, hi) => lo + rand() * (hi - lo);
const rows = [];
const emit = (row) => {
  rows.push(row);
  console.log(JSON.stringify(row));
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? null : s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const lab = await createTrustLab('lwt-b-');
let burners = null;
let agent = null;
const teardown = () => {
  burners?.stop();
  agent?.proc.kill('SIGKILL');
  lab.destroy();
};
const unhook = cleanupOnSignal(teardown);

const link = async (a) => a.json('/v1/link');
const health = (d, u) => d?.snapshot?.uplinks?.[u]?.health ?? 'unknown';
async function until(a, cond, limitMs) {
  const t0 = Date.now();
  let last = null;
  while (Date.now() - t0 < limitMs) {
    last = await link(a).catch(() => last);
    if (last && cond(last)) return { ms: Date.now() - t0, last };
    await sleep(POLL_MS);
  }
  return { ms: null, last };
}
/** Throughput readings the agent logged (msg 'throughput probe'): what a starved agent measured on a link of known rate. */
const throughputReadings = (logFile) => {
  const out = [];
  for (const line of readFileSync(logFile, 'utf8').split('\n')) {
    if (!line.includes('"throughput probe"')) continue;
    try {
      const r = JSON.parse(line);
      out.push({ uplink: r.uplink, why: r.why ?? 'scheduled', ran: r.ran, skipped: r.skipped, down: round1(r.down), up: round1(r.up) });
    } catch {
      /* a torn line */
    }
  }
  return out;
};
const round1 = (x) => (x === null || x === undefined ? null : Math.round(x * 10) / 10);

try {
  emit({
    kind: 'setup',
    seed: SEED,
    burnersPerCore: QUIET ? 0 : PER_CORE,
    cores: availableParallelism(),
    minutes: MINUTES,
    cuts: CUTS,
    profiles: PROFILES,
    throughputCron: CRON,
    build: buildInfo(),
  });
  if (!QUIET) {
    burners = startBurners({ count: Math.max(1, Math.round(PER_CORE * availableParallelism())) });
    emit({ kind: 'burners', count: burners.count, nice: burners.nice });
  }

  // 1. Healthy network under (or without) saturation, fast settings: every transition toward worse and every switch is false.
  {
    const wanMbit = Math.round(draw(RATE_MIN_MBIT, RATE_MAX_MBIT));
    const lteMbit = Math.round(draw(RATE_MIN_MBIT, RATE_MAX_MBIT));
    lab.shape('wan', wanMbit);
    lab.shape('lte', lteMbit);
    agent = await lab.startAgent(siteConfig(lab, 'fast', { throughputCron: CRON }), 'healthy');
    const t0 = Date.now();
    const first = await until(agent, (d) => health(d, 'wan') === 'healthy' && health(d, 'lte') === 'healthy', FIRST_HEALTHY_LIMIT_MS);
    // Accumulate transitions beyond the 20 that /v1/link keeps.
    const seen = new Map();
    // Worst light figures the agent reported while the network was healthy (how much of its own starvation it measured).
    const worst = { rttP95Ms: 0, lossPercent: 0, jitterMs: 0 };
    const endAt = t0 + MINUTES * 60_000;
    // The agent reports its event-loop delay per complete 60 s window: read it every 30 s and keep the largest.
    let loopMaxS = 0;
    let lastScrape = 0;
    while (Date.now() < endAt) {
      if (Date.now() - lastScrape >= 30_000) {
        lastScrape = Date.now();
        loopMaxS = Math.max(loopMaxS, metricSum(await agent.metrics().catch(() => []), 'nodejs_eventloop_delay_max_seconds'));
      }
      const d = await link(agent).catch(() => null);
      for (const tr of d?.recentTransitions ?? []) seen.set(`${tr.uplink}|${tr.atMs}|${tr.to}`, tr);
      for (const u of Object.values(d?.snapshot?.uplinks ?? {})) for (const k of Object.keys(worst)) worst[k] = Math.max(worst[k], u.latest?.[k] ?? 0);
      await sleep(Math.min(5_000, Math.max(0, endAt - Date.now())));
    }
    const ms = await agent.metrics();
    const d = await link(agent);
    for (const tr of d.recentTransitions ?? []) seen.set(`${tr.uplink}|${tr.atMs}|${tr.to}`, tr);
    const hours = (Date.now() - t0) / 3_600_000;
    const worse = metricSum(ms, 'linkward_link_transitions_total', (l) => l.to === 'degraded' || l.to === 'down');
    const toUnknown = metricSum(ms, 'linkward_link_transitions_total', (l) => l.to === 'unknown');
    const switches = metricSum(ms, 'linkward_route_switches_total', (l) => l.reason !== 'initial');
    const transitions = [...seen.values()]
      .filter((x) => x.uplink !== null && x.to !== 'healthy')
      .sort((a, b) => a.atMs - b.atMs)
      .map((x) => ({ uplink: x.uplink, from: x.from, to: x.to, atS: round1((x.atMs - t0) / 1000), reasons: x.reasons }));
    const voided = ms.filter((m) => /void|disturb/i.test(m.name) && m.value > 0).map((m) => ({ ...m.labels, name: m.name, value: m.value }));
    emit({
      kind: 'healthy',
      profile: 'fast',
      saturated: !QUIET,
      drawn: { wanMbit, lteMbit },
      minutes: round1((Date.now() - t0) / 60_000),
      firstHealthyMs: first.ms,
      worseningTransitions: worse,
      toUnknownTransitions: toUnknown,
      routeSwitches: switches,
      worseningPerHour: round1(worse / hours),
      switchesPerHour: round1(switches / hours),
      extrapolated: `from ${round1(hours * 60)} min to 1 h`,
      throughputTests: metricSum(ms, 'linkward_probes_rounds_total', (l) => l.kind === 'throughput'),
      lightRounds: metricSum(ms, 'linkward_probes_rounds_total', (l) => l.kind === 'light'),
      worstLightSeen: { rttP95Ms: round1(worst.rttP95Ms), lossPercent: round1(worst.lossPercent), jitterMs: round1(worst.jitterMs) },
      loopDelayMaxMs: round1(Math.max(loopMaxS, metricSum(ms, 'nodejs_eventloop_delay_max_seconds')) * 1000),
      activeAtEnd: d.snapshot?.active ?? null,
      voided,
      transitions,
      throughputReadings: throughputReadings(agent.logFile),
    });
    await agent.stop();
    agent = null;
    lab.restore('wan');
    lab.restore('lte');
  }

  // 2. Cuts: a fresh agent per run (no damping carried over), settle for a drawn time, far side of wan dies with the carrier up.
  for (const profile of PROFILES) {
    for (let run = 0; run < CUTS; run++) {
      const wanMbit = Math.round(draw(RATE_MIN_MBIT, RATE_MAX_MBIT));
      const settleMs = Math.round(draw(SETTLE_MS[profile][0], SETTLE_MS[profile][1]));
      lab.shape('wan', wanMbit);
      agent = await lab.startAgent(siteConfig(lab, profile), `cut-${profile}-${run}`);
      const first = await until(agent, (d) => health(d, 'wan') === 'healthy', FIRST_HEALTHY_LIMIT_MS);
      await sleep(settleMs);
      const pre = await link(agent).catch(() => null);
      const cutAt = Date.now();
      lab.cut('wan');
      const cutCmdMs = Date.now() - cutAt;
      const down = await until(agent, (d) => health(d, 'wan') === 'down', DETECT_LIMIT_MS);
      const tr = down.last?.recentTransitions?.find((x) => x.uplink === 'wan' && x.to === 'down' && x.atMs >= cutAt);
      const sw = await until(agent, (d) => d.snapshot?.active === 'lte', DETECT_LIMIT_MS);
      const switchedMs = sw.ms === null ? null : Date.now() - cutAt;
      emit({
        kind: 'cut',
        profile,
        run,
        saturated: !QUIET,
        drawn: { wanMbit, settleMs },
        firstHealthyMs: first.ms,
        wanBeforeCut: health(pre, 'wan'),
        detectMs: tr ? tr.atMs - cutAt : null,
        detectPolledMs: down.ms,
        routeOnBackupPolledMs: switchedMs,
        cutCmdMs,
        goalMs: GOAL_MS[profile] ?? null,
        reasons: tr?.reasons ?? down.last?.snapshot?.uplinks?.wan?.reasons ?? [],
      });
      await agent.stop();
      agent = null;
      lab.restore('wan');
    }
  }

  const healthy = rows.find((r) => r.kind === 'healthy');
  const summary = { kind: 'summary', seed: SEED, saturated: !QUIET, burners: burners?.count ?? 0 };
  if (healthy) {
    Object.assign(summary, {
      healthyMinutes: healthy.minutes,
      falseWorseningTransitions: healthy.worseningTransitions,
      falseWorseningPerHour: healthy.worseningPerHour,
      falseRouteSwitches: healthy.routeSwitches,
      falseSwitchesPerHour: healthy.switchesPerHour,
      perHourIs: `extrapolated ${healthy.extrapolated}`,
      goalPerHour: 0,
    });
  }
  for (const profile of PROFILES) {
    const cuts = rows.filter((r) => r.kind === 'cut' && r.profile === profile);
    const got = cuts.map((r) => r.detectMs).filter((x) => x !== null);
    summary[`cut_${profile}`] = {
      runs: cuts.length,
      detected: got.length,
      medianMs: median(got),
      maxMs: got.length ? Math.max(...got) : null,
      goalMs: GOAL_MS[profile] ?? null,
      withinGoal: got.filter((x) => x <= (GOAL_MS[profile] ?? Infinity)).length,
    };
  }
  emit(summary);
} finally {
  teardown();
  unhook();
}
