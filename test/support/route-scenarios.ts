/** The three route impairment scenarios (throttle, sustained 1 % loss, square-wave flapping) run on one trust lab each; figures plus a problem list. */
import { copyFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FAR_IP, type LabAgent, type TrustLab } from './trust-lab.ts';
import {
  forceUntil,
  health,
  impairConfig,
  linkDoc,
  lossConfig,
  pathLoss,
  pathLossDropped,
  maxInWindow,
  ready,
  route,
  switchCount,
  trafficVia,
  until,
  watchActive,
  worseCount,
  type Profile,
} from './route-impair.ts';

export interface ScenarioResult {
  name: string;
  /** Measured figures (printed by tests and the soak, recorded in docs/bench/route.md). */
  figures: Record<string, unknown>;
  /** Goal or precondition misses; empty when the scenario passed. */
  problems: string[];
}

/** Below downloadMbps.degraded.enter (5) and above down.enter (0.5); upload stays above its degraded exit (1.5). */
const THROTTLE_MBIT = 2;
/**
 * Forced throughput tests tried per step (a reading can be set aside: warm-up, or a capped figure that only proves
 * "at least": with every core busy 4 of 5 readings at 2 Mbit/s were capped in one run), and how long each waits for
 * the verdict: enter dwell 3 s / exit dwell 12 s (scaled) + rounds.
 */
const FORCE_ATTEMPTS = 8;
const WORSE_SETTLE_MS = 8_000;
const BETTER_SETTLE_MS = 20_000;
/** A cron that never fires during a run: only forced throughput tests, so interface counters see only our traffic. */
const NEVER_CRON = '0 0 1 1 *';
/** Random loss on the active uplink's path towards the edge (one direction: ≈ 1 % of probe round trips). */
const LOSS_PERCENT = 1;

/** Agents' logs of the last runs (one file per scenario run, a few hundred kB each). */
const KEEP_LOGS_DIR = join(tmpdir(), 'lwr-impair-logs');

/** Leave degraded → switch: scaled degradedSwitchAfter (24 s) + dwell + a few rounds; defaults: 2 min + dwell. */
const switchLimitMs = (p: Profile): number => (p === 'scaled' ? 60_000 : 240_000);
/** Failback after the impairment lifts: scaled exit dwell 12 s + loss window + failback hold 24 s; defaults ≤ 10 min + margin. */
const failbackLimitMs = (p: Profile): number => (p === 'scaled' ? 90_000 : 720_000);

async function withAgent(
  lab: TrustLab,
  config: Record<string, unknown>,
  name: string,
  fn: (a: LabAgent, r: ScenarioResult) => Promise<void>,
): Promise<ScenarioResult> {
  const r: ScenarioResult = { name, figures: {}, problems: [] };
  const a = await lab.startAgent(config, name);
  try {
    const notReady = await ready(a);
    if (notReady) r.problems.push(`precondition: ${notReady}`);
    else await fn(a, r);
  } catch (e) {
    r.problems.push(`error: ${String((e as Error).stack ?? e)}`);
  } finally {
    await a.stop();
    // The lab directory goes with the lab: the agent's log is kept where a failure message can point to it.
    mkdirSync(KEEP_LOGS_DIR, { recursive: true });
    const kept = join(KEEP_LOGS_DIR, `${lab.ns.edge}-${name}-${Date.now()}.log`);
    try {
      copyFileSync(a.logFile, kept);
      r.figures.log = kept;
    } catch {
      r.figures.log = null;
    }
  }
  return r;
}

/** tbf below the download degraded threshold on wan (light probes unaffected) → failover to lte; lifted → failback. */
export function throttleScenario(lab: TrustLab, profile: Profile): Promise<ScenarioResult> {
  return withAgent(lab, impairConfig(lab, profile, NEVER_CRON), 'throttle', async (a, r) => {
    lab.shape('wan', THROTTLE_MBIT);
    const t0 = Date.now();
    const worse = await forceUntil(a, 'wan', (h) => h === 'degraded' || h === 'down', FORCE_ATTEMPTS, WORSE_SETTLE_MS);
    r.figures.degradedAfterMs = Date.now() - t0;
    const seenHealth = health(await linkDoc(a), 'wan');
    r.figures.throttledReadings = worse.readings;
    r.figures.throttledHealth = seenHealth;
    if (!worse.ok)
      return void r.problems.push(
        `precondition: wan not worse after ${worse.readings.length} forced tests at ${THROTTLE_MBIT} Mbit/s (${worse.readings.join('; ')})`,
      );
    if (seenHealth !== 'degraded')
      r.problems.push(`wan ${seenHealth} at ${THROTTLE_MBIT} Mbit/s: light probes should stay fine, so degraded (not down) is expected`);
    const sw = await until(
      () => route(a),
      (d) => d.active === 'lte',
      switchLimitMs(profile),
    );
    r.figures.switchedAfterMs = sw.ms === null ? null : Date.now() - t0;
    if (sw.ms === null)
      return void r.problems.push(`no failover to lte within ${switchLimitMs(profile)} ms of the throttle (last decision: ${sw.last?.lastDecision})`);
    const onLte = await trafficVia(lab, FAR_IP);
    r.figures.trafficAfterFailover = onLte;
    if (onLte.via !== 'e2') r.problems.push(`after the failover new traffic did not leave by e2 (tx bytes e1 +${onLte.e1}, e2 +${onLte.e2})`);
    lab.shape('wan', null);
    const liftedAt = Date.now();
    const better = await forceUntil(a, 'wan', (h) => h === 'healthy', FORCE_ATTEMPTS, BETTER_SETTLE_MS);
    r.figures.liftedReadings = better.readings;
    if (!better.ok) return void r.problems.push(`wan not healthy again after the throttle lifted (${better.readings.join('; ')})`);
    const back = await until(
      () => route(a),
      (d) => d.active === 'wan',
      failbackLimitMs(profile),
    );
    r.figures.failbackAfterLiftMs = back.ms === null ? null : Date.now() - liftedAt;
    if (back.ms === null) return void r.problems.push(`no failback to wan within ${failbackLimitMs(profile)} ms (last decision: ${back.last?.lastDecision})`);
    const onWan = await trafficVia(lab, FAR_IP);
    r.figures.trafficAfterFailback = onWan;
    if (onWan.via !== 'e1') r.problems.push(`after the failback new traffic did not leave by e1 (tx bytes e1 +${onWan.e1}, e2 +${onWan.e2})`);
  });
}

/** LOSS_PERCENT random loss on wan's gateway for `windowMs`: no switch, no worsening transition, traffic stays on e1. */
export function lossScenario(lab: TrustLab, profile: Profile, windowMs: number): Promise<ScenarioResult> {
  // Throughput tests inside the window too (every minute, the defaults run them hourly): a low reading under loss would show.
  return withAgent(lab, lossConfig(lab, profile, '* * * * *'), 'loss', async (a, r) => {
    const m0 = await a.metrics();
    pathLoss(lab, 'wan', LOSS_PERCENT);
    const w = watchActive(a);
    const t0 = Date.now();
    let worstLoss = 0;
    const healths = new Set<string>();
    try {
      while (Date.now() - t0 < windowMs) {
        const d = await linkDoc(a).catch(() => null);
        const wan = d?.snapshot?.uplinks.wan as { health: string; latest?: { lossPercent?: number } } | undefined;
        if (wan) {
          healths.add(wan.health);
          worstLoss = Math.max(worstLoss, wan.latest?.lossPercent ?? 0);
        }
        await new Promise((res) => setTimeout(res, 2_000));
      }
      r.figures.trafficDuringLoss = await trafficVia(lab, FAR_IP);
      r.figures.packetsDropped = pathLossDropped(lab, 'wan');
    } finally {
      lab.restore('wan');
      await w.stop();
    }
    const m1 = await a.metrics();
    const switches = switchCount(m1) - switchCount(m0);
    const worse = worseCount(m1, 'wan') - worseCount(m0, 'wan') + worseCount(m1, 'lte') - worseCount(m0, 'lte');
    Object.assign(r.figures, {
      windowS: Math.round((Date.now() - t0) / 1000),
      lossPercent: LOSS_PERCENT,
      switches,
      activeChanges: w.changes.length,
      worseningTransitions: worse,
      wanHealthsSeen: [...healths],
      worstWindowLossPercent: Math.round(worstLoss * 10) / 10,
    });
    if (switches !== 0 || w.changes.length !== 0)
      r.problems.push(`${switches} switch(es), active changes ${JSON.stringify(w.changes)} under ${LOSS_PERCENT} % random loss`);
    if (worse !== 0) r.problems.push(`${worse} worsening transition(s) under ${LOSS_PERCENT} % random loss (wan seen ${[...healths].join(', ')})`);
    const via = (r.figures.trafficDuringLoss as { via: string | null }).via;
    if (via !== 'e1') r.problems.push(`traffic during the loss window did not leave by e1: ${JSON.stringify(r.figures.trafficDuringLoss)}`);
  });
}

/**
 * Square wave on wan (dead with the carrier up / alive, half-period `halfMs`, starting dead) for `windowMs`: at most
 * one switch in the window; then, the link left alone, how long until traffic is back on wan (through e1).
 */
export function flapScenario(lab: TrustLab, profile: Profile, halfMs: number, windowMs: number): Promise<ScenarioResult> {
  return withAgent(lab, impairConfig(lab, profile), 'flap', async (a, r) => {
    const m0 = await a.metrics();
    const w = watchActive(a);
    const t0 = Date.now();
    let phases = 0;
    try {
      for (let k = 0; t0 + k * halfMs < t0 + windowMs; k++) {
        await new Promise((res) => setTimeout(res, Math.max(0, t0 + k * halfMs - Date.now())));
        if (k % 2 === 0) lab.cut('wan');
        else lab.restore('wan');
        phases++;
      }
      await new Promise((res) => setTimeout(res, Math.max(0, t0 + windowMs - Date.now())));
    } finally {
      lab.restore('wan');
    }
    const stopAt = Date.now();
    const m1 = await a.metrics();
    const hist = (await route(a)).history;
    const switches = switchCount(m1) - switchCount(m0);
    const during = hist
      .filter((h) => h.atMs >= t0 && h.atMs <= stopAt && h.reason !== 'initial')
      .map((h) => `${h.reason} ${h.from}→${h.to} ${h.result} at +${Math.round((h.atMs - t0) / 1000)} s`);
    Object.assign(r.figures, {
      halfS: halfMs / 1000,
      windowS: Math.round((stopAt - t0) / 1000),
      deadPhases: Math.ceil(phases / 2),
      switches,
      maxInWindow: maxInWindow(hist, t0, windowMs),
      switchesDuring: during,
      wanWorseningTransitions: worseCount(m1, 'wan') - worseCount(m0, 'wan'),
    });
    if (switches > 1)
      r.problems.push(`${switches} switches in the ${Math.round(windowMs / 1000)} s window at half-period ${halfMs / 1000} s (goal ≤ 1): ${during.join('; ')}`);
    const back = await until(
      () => route(a),
      (d) => d.active === 'wan',
      failbackLimitMs(profile),
    );
    await w.stop();
    r.figures.backOnWanAfterStopMs = back.ms === null ? null : Date.now() - stopAt;
    r.figures.activeChanges = w.changes.map((c) => `${c.to} at +${Math.round((c.atMs - t0) / 1000)} s`);
    if (back.ms === null)
      return void r.problems.push(
        `traffic not back on wan within ${failbackLimitMs(profile)} ms after the flapping stopped (last decision: ${back.last?.lastDecision})`,
      );
    const onWan = await trafficVia(lab, FAR_IP);
    r.figures.trafficAfterStop = onWan;
    if (onWan.via !== 'e1') r.problems.push(`after the flapping stopped new traffic did not leave by e1 (tx bytes e1 +${onWan.e1}, e2 +${onWan.e2})`);
  });
}
