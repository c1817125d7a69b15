/** Lab (root): the built agent in lwt-* namespaces, quiet and with CPU burners on every core: no false verdicts, cuts detected, stale figures expire. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { cpuVariants, startBurners, type Burners } from '../../support/cpu-burners.ts';
import {
  buildInfo,
  cleanupOnSignal,
  createTrustLab,
  metricSum,
  siteConfig,
  sleep,
  trustLabUnavailable,
  type LabAgent,
  type Metric,
  type TrustLab,
} from '../../support/trust-lab.ts';

/** Healthy windows: long enough for ~120 (busy) / ~60 (quiet) light rounds per uplink at 0.5 s, short enough for the file to stay under ~4 min. */
const BUSY_HEALTHY_MS = 60_000;
const QUIET_HEALTHY_MS = 30_000;
/** Both uplinks must reach healthy this soon after start (first rounds + nothing to dwell on from unknown). */
const FIRST_HEALTHY_LIMIT_MS = 30_000;
/** Cut detection: the goal is ≤ 5 s with the fast settings (reported); the assertion only catches "not detected". */
const CUT_DETECT_LIMIT_MS = 20_000;
/** After the rate and the link are restored, the stale low throughput figure must stop holding the uplink worse within this bound. */
const RECOVERY_LIMIT_MS = 60_000;
/** Below downloadMbps.degraded.enter (5) and above down.enter (0.5); upload stays above its degraded exit (1.5). */
const THROTTLE_MBIT = 2;
/** Forced throughput tests tried before the precondition (uplink worse at the throttled rate) fails, and how long each waits for the verdict. */
const FORCE_ATTEMPTS = 3;
const FORCE_SETTLE_MS = 12_000;
/** Status polling interval (each poll costs the starved agent a little CPU). */
const POLL_MS = 250;

interface Transition {
  uplink: string | null;
  from: string;
  to: string;
  atMs: number;
  reasons: string[];
}
interface UplinkView {
  health: string;
  reasons: string[];
}
interface ForcedResult {
  skipped?: string;
  download?: { mbps?: number };
  upload?: { mbps?: number };
  sample?: { downloadMbps?: number; uploadMbps?: number; void?: string };
}
interface LinkDoc {
  snapshot: { active: string | null; uplinks: Record<string, UplinkView> } | null;
  recentTransitions: Transition[];
}

const skipReason: string | null = trustLabUnavailable();
if (skipReason && process.env.CI) assert.fail(`trust lab cannot run in CI: ${skipReason}`);
let lab: TrustLab | null = null;
let burners: Burners | null = null;
const agents: LabAgent[] = [];
let unhook = (): void => undefined;

const teardown = (): void => {
  burners?.stop();
  for (const a of agents) a.proc.kill('SIGKILL');
  lab?.destroy();
  lab = null;
};

before(async () => {
  if (skipReason) return;
  unhook = cleanupOnSignal(teardown);
  lab = await createTrustLab('lwt-t-');
});
after(async () => {
  for (const a of agents) await a.stop().catch(() => undefined);
  teardown();
  unhook();
});

const link = (a: LabAgent): Promise<LinkDoc> => a.json<LinkDoc>('/v1/link');
const health = (d: LinkDoc, u: string): string => d.snapshot?.uplinks[u]?.health ?? 'unknown';

/** Transitions that make an uplink look worse: to degraded or down (a healthy → unknown shows in the listed transitions). */
const worsening = (ms: readonly Metric[]): Metric[] =>
  ms.filter((m) => m.name === 'linkward_link_transitions_total' && m.labels.to !== 'healthy' && m.labels.to !== 'unknown' && m.value > 0);
/** Default-route switches other than the take-over at start (an initial switch moves nothing away from a healthy link). */
const switches = (ms: readonly Metric[]): number => metricSum(ms, 'linkward_route_switches_total', (l) => l.reason !== 'initial');
/** Whatever the agent counts as voided/disturbed measurements (names are the agent's; shown, never asserted). */
const voidMetrics = (ms: readonly Metric[]): string =>
  ms
    .filter((m) => /void|disturb|starv/i.test(m.name) && m.value > 0)
    .map((m) => `${m.name}${JSON.stringify(m.labels)}=${m.value}`)
    .join(' ') || 'none';
/** How starved the agent's event loop was (the process metrics every build exposes). */
const loopDelay = (ms: readonly Metric[]): string =>
  ms
    .filter((m) => /^nodejs_eventloop_delay_(p99|max)_seconds$/.test(m.name))
    .map((m) => `${m.name.replace(/^nodejs_eventloop_delay_|_seconds$/g, '')} ${Math.round(m.value * 1000)} ms`)
    .join(', ');

/** The agent's own log lines matching `pattern` (warnings and worse by default), for failure messages. */
function logTail(a: LabAgent, lines = 15, pattern = /"level":(40|50|60)/): string {
  try {
    return readFileSync(a.logFile, 'utf8')
      .trim()
      .split('\n')
      .filter((l) => pattern.test(l))
      .slice(-lines)
      .map((l) => l.slice(0, 600))
      .join('\n');
  } catch {
    return '(no log)';
  }
}

/** Polls /v1/link (bounded) until `cond`; returns the elapsed ms, or null with the last document. */
async function until(a: LabAgent, cond: (d: LinkDoc) => boolean, limitMs: number): Promise<{ ms: number | null; last: LinkDoc | null }> {
  const t0 = Date.now();
  let last: LinkDoc | null = null;
  while (Date.now() - t0 < limitMs) {
    last = await link(a).catch(() => last);
    if (last && cond(last)) return { ms: Date.now() - t0, last };
    await sleep(POLL_MS);
  }
  return { ms: null, last };
}

async function start(profile: 'fast', name: string): Promise<LabAgent> {
  const a = await lab!.startAgent(siteConfig(lab!, profile, { throughputCron: '* * * * *' }), name);
  agents.push(a);
  return a;
}

/** (a) A healthy network for `windowMs` from the agent's start: both uplinks become healthy, nothing gets worse, no switch. */
async function healthyWindow(t: { diagnostic(s: string): void }, a: LabAgent, windowMs: number, label: string): Promise<void> {
  const t0 = Date.now();
  const first = await until(a, (d) => health(d, 'wan') === 'healthy' && health(d, 'lte') === 'healthy', FIRST_HEALTHY_LIMIT_MS);
  await sleep(Math.max(0, windowMs - (Date.now() - t0)));
  const ms = await a.metrics();
  const doc = await link(a);
  const bad = worsening(ms);
  const sw = switches(ms);
  const list = doc.recentTransitions
    .filter((x) => x.uplink !== null && x.to !== 'healthy')
    .map((x) => `${x.uplink} ${x.from}→${x.to} at +${x.atMs - t0} ms (${x.reasons.join(' ')})`);
  t.diagnostic(
    `${label}: ${Math.round((Date.now() - t0) / 1000)} s from start; both healthy after ${first.ms ?? 'never'} ms; worsening transitions ${bad.reduce((s, m) => s + m.value, 0)}; route switches ${sw}; voided samples: ${voidMetrics(ms)}; agent event-loop delay ${loopDelay(ms)}`,
  );
  for (const l of list) t.diagnostic(`  ${l}`);
  assert.ok(
    first.ms !== null,
    `${label}: both uplinks never became healthy within ${FIRST_HEALTHY_LIMIT_MS} ms on a healthy network (last: ${JSON.stringify(first.last?.snapshot?.uplinks)})`,
  );
  assert.equal(
    bad.length,
    0,
    `${label}: a healthy network produced transitions toward worse: ${list.join('; ') || JSON.stringify(bad)}\nagent warnings:\n${logTail(a)}`,
  );
  assert.equal(
    sw,
    0,
    `${label}: ${sw} route switch(es) on a healthy network: ${JSON.stringify(ms.filter((m) => m.name === 'linkward_route_switches_total'))}\nagent route/link log:\n${logTail(a, 20, /"component":"(route|link)"/)}`,
  );
  assert.equal(doc.snapshot?.active, 'wan', `${label}: the active uplink moved off the preferred healthy wan`);
}

/** (b) Far side of wan dead (carrier up): time from the cut to wan's `down` transition as the agent stamped it. */
async function cutDetected(t: { diagnostic(s: string): void }, a: LabAgent, label: string): Promise<void> {
  const before = await until(a, (d) => health(d, 'wan') === 'healthy', FIRST_HEALTHY_LIMIT_MS);
  assert.ok(before.ms !== null, `${label}: wan not healthy before the cut (${JSON.stringify(before.last?.snapshot?.uplinks.wan)})`);
  const cutAt = Date.now();
  lab!.cut('wan');
  const cutCmdMs = Date.now() - cutAt;
  try {
    const seen = await until(a, (d) => health(d, 'wan') === 'down', CUT_DETECT_LIMIT_MS);
    const tr = seen.last?.recentTransitions.find((x) => x.uplink === 'wan' && x.to === 'down' && x.atMs >= cutAt);
    const switched = await until(a, (d) => d.snapshot?.active === 'lte', CUT_DETECT_LIMIT_MS);
    const switchedMs = switched.ms === null ? 'never' : `${Date.now() - cutAt} ms (polled)`;
    t.diagnostic(
      `${label}: cut → wan down ${tr ? tr.atMs - cutAt : 'n/a'} ms by the agent's stamp (seen by polling after ${seen.ms ?? 'never'} ms; nft took ${cutCmdMs} ms); default route on lte after ${switchedMs}; goal ≤ 5000 ms`,
    );
    assert.ok(
      seen.ms !== null,
      `${label}: a dead far side on wan was not detected within ${CUT_DETECT_LIMIT_MS} ms (wan: ${JSON.stringify(seen.last?.snapshot?.uplinks.wan)})`,
    );
    assert.ok(switched.ms !== null, `${label}: wan down but the default route never moved to lte`);
  } finally {
    lab!.restore('wan');
  }
}

const variants = cpuVariants();

if (variants.includes(false)) {
  test('quiet CPU: healthy network → no worsening verdict, no route switch', { timeout: 120_000 }, async (t) => {
    if (skipReason) return t.skip(skipReason);
    t.diagnostic(buildInfo());
    await healthyWindow(t, await start('fast', 'quiet'), QUIET_HEALTHY_MS, 'quiet');
  });

  test('quiet CPU: a dead far side (carrier up) is detected', { timeout: 60_000 }, async (t) => {
    if (skipReason) return t.skip(skipReason);
    await cutDetected(t, agents.at(-1)!, 'quiet');
    await agents.at(-1)!.stop();
  });
}

if (variants.includes(true)) {
  test('busy CPU (burners on every core at the agent priority): healthy network → no worsening verdict, no route switch', { timeout: 150_000 }, async (t) => {
    if (skipReason) return t.skip(skipReason);
    burners = startBurners();
    t.diagnostic(`${burners.count} burners at nice ${burners.nice} (agent inherits the same)${burners.shared ? ", shared by the runner's busy lab pass" : ''}`);
    // Burners first, then the agent: its start-up happens on a saturated CPU too.
    await healthyWindow(t, await start('fast', 'busy'), BUSY_HEALTHY_MS, 'busy');
  });

  test('busy CPU: a dead far side (carrier up) is still detected', { timeout: 60_000 }, async (t) => {
    if (skipReason) return t.skip(skipReason);
    burners ??= startBurners();
    await cutDetected(t, agents.at(-1)!, 'busy');
    await agents.at(-1)!.stop();
  });

  test('busy CPU: a stale low throughput figure stops holding the uplink worse after recovery', { timeout: 200_000 }, async (t) => {
    if (skipReason) return t.skip(skipReason);
    burners ??= startBurners();
    // A fresh agent: no damping penalty carried over from the cut above.
    const a = await lab!.startAgent(siteConfig(lab!, 'fast'), 'stale');
    agents.push(a);
    const ready = await until(a, (d) => health(d, 'wan') === 'healthy', FIRST_HEALTHY_LIMIT_MS);
    assert.ok(ready.ms !== null, `wan never healthy at start (${JSON.stringify(ready.last?.snapshot?.uplinks.wan)})`);
    lab!.shape('wan', THROTTLE_MBIT);
    // Force tests until one counts: an agent may set a reading aside (taken during its start-up warm-up, starved, or
    // waiting for a confirming second test); each attempt and its void reason is reported.
    const attempts: string[] = [];
    let worse: { ms: number | null; last: LinkDoc | null } = { ms: null, last: null };
    for (let i = 0; i < FORCE_ATTEMPTS && worse.ms === null; i++) {
      const r = await a.post('/v1/probes/throughput?uplink=wan');
      assert.equal(r.status, 200, `POST /v1/probes/throughput: ${r.status} ${r.body.slice(0, 300)}`);
      const res = (JSON.parse(r.body) as { results: ForcedResult[] }).results[0];
      attempts.push(
        `down ${res?.sample?.downloadMbps?.toFixed(2) ?? res?.download?.mbps?.toFixed(2)} / up ${res?.sample?.uploadMbps?.toFixed(2) ?? res?.upload?.mbps?.toFixed(2)} Mbit/s${res?.sample?.void ? ` (void: ${res.sample.void})` : ''}${res?.skipped ? ` (skipped: ${res.skipped})` : ''}`,
      );
      worse = await until(a, (d) => ['degraded', 'down'].includes(health(d, 'wan')), FORCE_SETTLE_MS);
    }
    t.diagnostic(`throttled to ${THROTTLE_MBIT} Mbit/s; forced tests: ${attempts.join('; ')}`);
    assert.ok(
      worse.ms !== null,
      `precondition: wan not degraded/down after ${attempts.length} forced tests at ${THROTTLE_MBIT} Mbit/s (${attempts.join('; ')}); wan: ${JSON.stringify(worse.last?.snapshot?.uplinks.wan)}`,
    );
    // As in the issue: the link then dies and comes back at full rate; light probes see the recovery.
    lab!.cut('wan');
    const dead = await until(a, (d) => health(d, 'wan') === 'down', CUT_DETECT_LIMIT_MS);
    lab!.restore('wan');
    const restoredAt = Date.now();
    const back = await until(a, (d) => health(d, 'wan') === 'healthy', RECOVERY_LIMIT_MS);
    const view = back.last?.snapshot?.uplinks.wan;
    t.diagnostic(
      `throttle → ${health(worse.last!, 'wan')} (${worse.last?.snapshot?.uplinks.wan?.reasons.join(' ')}) after attempt ${attempts.length}; cut → down ${dead.ms === null ? 'not seen' : `after ${dead.ms} ms`}; restored → healthy ${back.ms === null ? `not within ${RECOVERY_LIMIT_MS} ms (still ${view?.health}: ${view?.reasons.join(' ')})` : `after ${Date.now() - restoredAt} ms`}`,
    );
    assert.ok(
      back.ms !== null,
      `wan still ${view?.health} ${RECOVERY_LIMIT_MS / 1000} s after the rate and the link were restored: the stale low throughput figure still decides (${view?.reasons.join(' ')}); latest figures ${JSON.stringify(view && (view as unknown as { latest?: unknown }).latest)}`,
    );
  });
}
