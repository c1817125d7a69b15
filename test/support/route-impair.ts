/** Route impairment scenarios on the trust lab (built agent): throttling, sustained random loss, square-wave flapping; shared by lab tests and bench:route-soak. */
import { execFileSync } from 'node:child_process';
import { metricSum, siteConfig, sleep, type LabAgent, type Metric, type TrustLab } from './trust-lab.ts';

/** Every status poll is this far apart (each one costs a starved agent a little CPU). */
const POLL_MS = 500;
/** Both uplinks healthy and wan active this soon after the agent's start, burners included (bench:verdicts allows 60 s at the defaults). */
const READY_LIMIT_MS = 90_000;
/** Traffic check: ICMP echoes of this size sent through the default route; the carrying interface must show them all. */
const PING_COUNT = 50;
const PING_BYTES = 1_200;
/** Bytes the carrying interface must have sent for the echoes (payload + ICMP/IP headers, rounded down). */
const PING_WIRE_BYTES = PING_COUNT * PING_BYTES;
/** An uplink that sent this much while the echoes went out carried a speed test (16 MB per test here), not echoes. */
const SPEEDTEST_BYTES = 20 * PING_WIRE_BYTES;
/** Measurements of the route's traffic when a speed test overlapped, and the pause between them (a test lasts < 1 s here). */
const VIA_ATTEMPTS = 3;
const VIA_RETRY_MS = 2_000;
/** Command bound; under burners `ip netns exec` takes up to a few hundred ms. */
const CMD_TIMEOUT_MS = 20_000;

export type Profile = 'scaled' | 'defaults';

/**
 * The agent config for a scenario. `defaults`: what an operator runs (only targets set; no switch cap, so a false
 * switch is counted, not hidden). `scaled`: the defaults' dwell, damping, failback hold and degraded-switch delay
 * divided by 5 with 0.5 s probe rounds, so 2 min of lab time stand for the 10-min windows of the issue.
 */
export function impairConfig(lab: TrustLab, profile: Profile, throughputCron?: string): Record<string, unknown> {
  const base = siteConfig(lab, profile === 'scaled' ? 'fast' : 'defaults', throughputCron ? { throughputCron } : {}) as {
    probes: Record<string, unknown>;
    uplinks: { policy: Record<string, unknown> };
  };
  if (profile === 'scaled') {
    base.probes.health = SCALED_HEALTH;
    base.uplinks.policy = { ...base.uplinks.policy, failbackHold: 24_000, degradedSwitchAfter: 24_000, minSwitchInterval: 2_000, holdDown: 60_000 };
  }
  return base;
}

/** The defaults' dwell and damping durations ÷ 5 (window and thresholds unchanged). */
const SCALED_HEALTH = { dwell: { enterS: 3, exitS: 12 }, damping: { halfLifeS: 120, maxHoldS: 84 } };

/**
 * Sustained random loss is judged by the defaults' verdict settings even in the scaled profile: loss sensitivity lives in
 * the loss window and the enter dwell, and a 3 s dwell is a configuration nobody runs. Only the probe rounds are faster
 * (0.5 s), so a 2-min window holds 240 rounds, more than the defaults take in 10 min (30–120).
 */
export function lossConfig(lab: TrustLab, profile: Profile, throughputCron: string): Record<string, unknown> {
  const base = impairConfig(lab, profile, throughputCron) as { probes: Record<string, unknown> };
  delete base.probes.health;
  return base;
}

/** `percent` random loss on the path of `uplink` towards the edge (what its gateway forwards from the far side), 0 removes it. */
export function pathLoss(lab: TrustLab, uplink: 'wan' | 'lte', percent: number): void {
  const n = uplink === 'wan' ? 1 : 2;
  const gw = uplink === 'wan' ? lab.ns.gw1 : lab.ns.gw2;
  execFileSync('ip', ['netns', 'exec', gw, 'nft', 'flush chain inet lwt lwtfwd'], { timeout: CMD_TIMEOUT_MS });
  if (percent > 0)
    execFileSync('ip', ['netns', 'exec', gw, 'nft', `add rule inet lwt lwtfwd iifname "g${n}b" numgen random mod 100 < ${percent} counter drop`], {
      timeout: CMD_TIMEOUT_MS,
    });
}

/** Packets the path-loss rule dropped so far (its nft counter). */
export function pathLossDropped(lab: TrustLab, uplink: 'wan' | 'lte'): number {
  const out = execFileSync('ip', ['netns', 'exec', uplink === 'wan' ? lab.ns.gw1 : lab.ns.gw2, 'nft', 'list', 'chain', 'inet', 'lwt', 'lwtfwd'], {
    encoding: 'utf8',
    timeout: CMD_TIMEOUT_MS,
  });
  return Number(/counter packets (\d+)/.exec(out)?.[1] ?? 0);
}

/** The scaled flapping range, in seconds of half-period (see docs/OPERATIONS.md "Switches under flapping"): defaults' 10–175 s ÷ 5. */
export const FLAP_HALF_S: Record<Profile, [number, number]> = { scaled: [5, 34], defaults: [10, 175] };

interface RouteDoc {
  active: string | null;
  lastDecision?: string;
  history: { atMs: number; from: string | null; to: string; reason: string; result: string }[];
}
interface LinkDoc {
  snapshot: { active: string | null; uplinks: Record<string, { health: string; reasons: string[] }> } | null;
}

export const route = (a: LabAgent): Promise<RouteDoc> => a.json<RouteDoc>('/v1/route');
export const linkDoc = (a: LabAgent): Promise<LinkDoc> => a.json<LinkDoc>('/v1/link');
export const health = (d: LinkDoc | null, u: string): string => d?.snapshot?.uplinks[u]?.health ?? 'unknown';

/** Polls `probe` (bounded) until `cond`; returns the elapsed ms (null: not within `limitMs`) and the last value. */
export async function until<T>(probe: () => Promise<T>, cond: (v: T) => boolean, limitMs: number): Promise<{ ms: number | null; last: T | null }> {
  const t0 = Date.now();
  let last: T | null = null;
  while (Date.now() - t0 < limitMs) {
    last = await probe().catch(() => last);
    if (last !== null && cond(last)) return { ms: Date.now() - t0, last };
    await sleep(POLL_MS);
  }
  return { ms: null, last };
}

/** Waits until both uplinks are healthy and wan carries the default route (precondition of every scenario). */
export async function ready(a: LabAgent): Promise<string | null> {
  const r = await until(
    async () => ({ l: await linkDoc(a), r: await route(a) }),
    (v) => health(v.l, 'wan') === 'healthy' && health(v.l, 'lte') === 'healthy' && v.r.active === 'wan',
    READY_LIMIT_MS,
  );
  return r.ms === null
    ? `not ready within ${READY_LIMIT_MS} ms: wan ${health(r.last?.l ?? null, 'wan')}, lte ${health(r.last?.l ?? null, 'lte')}, active ${r.last?.r.active}`
    : null;
}

/** Route switches other than the take-over at start (an initial switch moves nothing away from a healthy link). */
export const switchCount = (ms: readonly Metric[]): number => metricSum(ms, 'linkward_route_switches_total', (l) => l.reason !== 'initial');
/** Transitions of `uplink` toward worse (degraded or down) after its first verdict. */
export const worseCount = (ms: readonly Metric[], uplink: string): number =>
  metricSum(ms, 'linkward_link_transitions_total', (l) => l.uplink === uplink && l.from !== 'unknown' && (l.to === 'degraded' || l.to === 'down'));

function txBytes(lab: TrustLab, dev: string): number {
  const out = execFileSync('ip', ['-n', lab.ns.edge, '-j', '-s', 'link', 'show', 'dev', dev], { encoding: 'utf8', timeout: CMD_TIMEOUT_MS });
  return Number((JSON.parse(out) as { stats64: { tx: { bytes: number } } }[])[0]!.stats64.tx.bytes);
}

/**
 * Sends PING_COUNT echoes from the edge to the far host through the default route and reads both uplinks' interface
 * counters around them. Returns which interface carried them (null: neither clearly did) and the byte deltas.
 */
export async function trafficVia(lab: TrustLab, farIp: string): Promise<{ via: 'e1' | 'e2' | null; e1: number; e2: number }> {
  let r = pingVia(lab, farIp);
  // An uplink moving far more than the echoes: the agent's own speed test ran meanwhile (each uplink in turn, under a
  // second in this lab), which says nothing about the route. Measured again after it, a few times at most.
  for (let i = 1; i < VIA_ATTEMPTS && r.via === null && Math.max(r.e1, r.e2) >= SPEEDTEST_BYTES; i++) {
    await new Promise((res) => setTimeout(res, VIA_RETRY_MS));
    r = pingVia(lab, farIp);
  }
  return r;
}

/** One measurement: the echoes, and both uplinks' transmitted bytes around them. */
function pingVia(lab: TrustLab, farIp: string): { via: 'e1' | 'e2' | null; e1: number; e2: number } {
  const before = { e1: txBytes(lab, 'e1'), e2: txBytes(lab, 'e2') };
  try {
    execFileSync(
      'ip',
      ['netns', 'exec', lab.ns.edge, 'ping', '-q', '-n', '-c', String(PING_COUNT), '-i', '0.005', '-s', String(PING_BYTES), '-W', '1', farIp],
      { timeout: CMD_TIMEOUT_MS, stdio: 'ignore' },
    );
  } catch {
    /* lost echoes still count as sent bytes */
  }
  const e1 = txBytes(lab, 'e1') - before.e1;
  const e2 = txBytes(lab, 'e2') - before.e2;
  // The other uplink only carries its own probes meanwhile (well under half the echoes' bytes).
  const via = e1 >= PING_WIRE_BYTES && e2 < PING_WIRE_BYTES / 2 ? 'e1' : e2 >= PING_WIRE_BYTES && e1 < PING_WIRE_BYTES / 2 ? 'e2' : null;
  return { via, e1, e2 };
}

/** Forces throughput tests on `uplink` (at most `attempts`) until its health satisfies `cond`; returns the readings. */
export async function forceUntil(
  a: LabAgent,
  uplink: string,
  cond: (h: string) => boolean,
  attempts: number,
  settleMs: number,
): Promise<{ ok: boolean; readings: string[] }> {
  const readings: string[] = [];
  for (let i = 0; i < attempts; i++) {
    const r = await a.post(`/v1/probes/throughput?uplink=${uplink}`);
    const res =
      r.status === 200
        ? (JSON.parse(r.body) as { results: { skipped?: string; sample?: { downloadMbps?: number; downloadLowerBound?: boolean; void?: string } }[] })
            .results[0]
        : undefined;
    readings.push(
      r.status !== 200
        ? `HTTP ${r.status}`
        : `${res?.sample?.downloadLowerBound ? '≥' : ''}${res?.sample?.downloadMbps?.toFixed(2) ?? '?'} Mbit/s${res?.sample?.void ? ` (void ${res.sample.void})` : ''}${res?.skipped ? ` (skipped ${res.skipped})` : ''}`,
    );
    const seen = await until(
      () => linkDoc(a),
      (d) => cond(health(d, uplink)),
      settleMs,
    );
    if (seen.ms !== null) return { ok: true, readings };
  }
  return { ok: false, readings };
}

/** Active uplink changes seen by polling /v1/route every POLL_MS, with when they were seen. */
export function watchActive(a: LabAgent): { changes: { atMs: number; to: string | null }[]; stop: () => Promise<void> } {
  const changes: { atMs: number; to: string | null }[] = [];
  let running = true;
  const loop = (async () => {
    let last: string | null | undefined;
    while (running) {
      const r = await route(a).catch(() => null);
      if (r && r.active !== last) {
        if (last !== undefined) changes.push({ atMs: Date.now(), to: r.active });
        last = r.active;
      }
      await sleep(POLL_MS);
    }
  })();
  return {
    changes,
    stop: async () => {
      running = false;
      await loop;
    },
  };
}

/** Most confirmed automatic switches in any window of `windowMs` (from the agent's own switch history). */
export function maxInWindow(history: RouteDoc['history'], fromMs: number, windowMs: number): number {
  const times = history.filter((h) => h.atMs >= fromMs && h.reason !== 'initial' && h.result !== 'rolled-back').map((h) => h.atMs);
  return Math.max(0, ...times.map((t) => times.filter((x) => x >= t && x < t + windowMs).length));
}
