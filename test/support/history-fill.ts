/** Scripted 24 h of a site written through the real stores (probes, link, route, history): healthy, degraded, down and failed-over runs, plus the matching status document. */
import type { Database } from 'better-sqlite3';
import { ProbeStore } from '../../probes/store.ts';
import { LinkStore } from '../../agent/link/store.ts';
import { createRouteStore } from '../../agent/route/store.ts';
import { HistoryStore } from '../../agent/history/store.ts';
import type { ProbeSample } from '../../agent/core/types.ts';
import type { Transition } from '../../agent/core/link-state.ts';

export type Scenario = 'healthy' | 'degraded' | 'down' | 'failover';

const MIN = 60_000;
const HOUR = 3_600_000;
/** Light results every minute (as probes/uplink-monitor.ts LIGHT_STORE_EVERY_MS stores them), throughput hourly. */
const LIGHT_EVERY_MS = MIN;
const THROUGHPUT_EVERY_MS = HOUR;

/** When each scenario's trouble started, before `nowMs`. */
export const TROUBLE_AGO_MS: Record<Scenario, number> = { healthy: Infinity, degraded: 3 * HOUR, down: 40 * MIN, failover: 2 * HOUR };

/** Deterministic noise in [0, 1) (a small LCG): the same run every time. */
function noise(seed: number): () => number {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32;
}

interface Plan {
  /** wan is bad from this time on (ms), and how. */
  wanBadFrom: number;
  wanBad: 'none' | 'slow' | 'dead';
  lteBad: 'none' | 'dead';
}

function plan(s: Scenario, nowMs: number): Plan {
  const from = nowMs - TROUBLE_AGO_MS[s];
  if (s === 'degraded') return { wanBadFrom: from, wanBad: 'slow', lteBad: 'none' };
  if (s === 'down') return { wanBadFrom: from, wanBad: 'dead', lteBad: 'dead' };
  if (s === 'failover') return { wanBadFrom: from, wanBad: 'dead', lteBad: 'none' };
  return { wanBadFrom: Infinity, wanBad: 'none', lteBad: 'none' };
}

/** Light and throughput samples for one uplink over 24 h. */
function samples(name: string, nowMs: number, p: Plan, rnd: () => number): ProbeSample[] {
  const out: ProbeSample[] = [];
  const base = name === 'wan' ? { rtt: 28, down: 48, up: 9.6 } : { rtt: 62, down: 16, up: 4.2 };
  const bad = (t: number): 'none' | 'slow' | 'dead' =>
    name === 'wan' ? (t >= p.wanBadFrom ? p.wanBad : 'none') : t >= p.wanBadFrom && p.lteBad === 'dead' ? 'dead' : 'none';
  for (let t = nowMs - 24 * HOUR + LIGHT_EVERY_MS; t <= nowMs; t += LIGHT_EVERY_MS) {
    const b = bad(t);
    if (b === 'dead')
      out.push({
        uplink: name,
        kind: 'light',
        atMs: t,
        lossPercent: 100,
        targetsUp: 0,
        targetsTotal: 3,
        reachable: false,
        carrier: name !== 'wan',
        bytesUsed: 300,
      });
    else {
      const rtt = b === 'slow' ? 240 + rnd() * 120 : base.rtt + rnd() * 12 + (rnd() < 0.02 ? 80 : 0);
      out.push({
        uplink: name,
        kind: 'light',
        atMs: t,
        rttMs: Math.round(rtt * 10) / 10,
        jitterMs: 2 + rnd() * 3,
        lossPercent: b === 'slow' ? 10 + Math.round(rnd() * 6) : rnd() < 0.05 ? 5 : 0,
        targetsUp: 3,
        targetsTotal: 3,
        reachable: true,
        carrier: true,
        bytesUsed: 300,
      });
    }
  }
  for (let t = nowMs - 24 * HOUR + THROUGHPUT_EVERY_MS / 2; t <= nowMs; t += THROUGHPUT_EVERY_MS) {
    const b = bad(t);
    if (b === 'dead') continue;
    const f = b === 'slow' ? 0.065 : 0.9 + rnd() * 0.15;
    out.push({
      uplink: name,
      kind: 'throughput',
      atMs: t,
      downloadMbps: Math.round(base.down * f * 10) / 10,
      uploadMbps: Math.round(base.up * f * 10) / 10,
      idleRttMs: base.rtt,
      loadedRttMs: Math.round(base.rtt * (b === 'slow' ? 9 : 5 + rnd())),
      bytesUsed: 20_000_000,
    });
  }
  return out;
}

/** Writes 24 h of `scenario` ending at `nowMs` into `db` through the real stores; returns what was written for assertions. */
export function fillStateDb(
  db: Database,
  scenario: Scenario,
  nowMs: number,
): { samples: number; transitions: Transition[]; failovers: number; nodeActions: number; bufferSamples: number } {
  const p = plan(scenario, nowMs);
  const rnd = noise(42);
  const probes = new ProbeStore(db);
  const all = [...samples('wan', nowMs, p, rnd), ...samples('lte', nowMs, p, rnd)];
  db.transaction(() => {
    for (const s of all) probes.storeOnly(s);
  })();
  const at = p.wanBadFrom;
  const transitions: Transition[] =
    scenario === 'degraded'
      ? [
          { uplink: 'wan', from: 'healthy', to: 'degraded', atMs: at + 2 * MIN, reasons: ['loss=12%>5', 'rtt_p95=310ms>200'] },
          { uplink: null, from: 'healthy', to: 'degraded', atMs: at + 2 * MIN, reasons: ['wan degraded'] },
        ]
      : scenario === 'down'
        ? [
            { uplink: 'wan', from: 'healthy', to: 'down', atMs: at + MIN, reasons: ['carrier=lost'] },
            { uplink: 'lte', from: 'healthy', to: 'down', atMs: at + MIN, reasons: ['unreachable=0/3 targets<quorum'] },
            { uplink: null, from: 'healthy', to: 'down', atMs: at + MIN, reasons: ['all uplinks down'] },
          ]
        : scenario === 'failover'
          ? [
              { uplink: 'wan', from: 'healthy', to: 'down', atMs: at + MIN, reasons: ['carrier=lost'] },
              { uplink: null, from: 'healthy', to: 'down', atMs: at + MIN, reasons: ['wan down'] },
              { uplink: null, from: 'down', to: 'healthy', atMs: at + 2 * MIN, reasons: ['lte active'] },
            ]
          : [{ uplink: 'lte', from: 'unknown', to: 'healthy', atMs: nowMs - 23 * HOUR, reasons: [] }];
  new LinkStore(db).saveTransitions(transitions);
  let failovers = 0;
  if (scenario === 'failover') {
    createRouteStore(db).record({ atMs: at + 90_000, from: 'wan', to: 'lte', reason: 'failover', result: 'confirmed', detail: 'default via lte' });
    failovers = 1;
  }
  const history = new HistoryStore(db);
  let nodeActions = 0;
  if (scenario === 'degraded' || scenario === 'down') {
    const state = scenario;
    history.recordNodeAction({
      atMs: at + 3 * MIN,
      summary: `label linkward.io/link=${state}; condition unset → False/Link${state === 'down' ? 'Down' : 'Degraded'}`,
      applied: JSON.stringify({ labels: { 'linkward.io/link': state }, taints: [], cordoned: false, condition: 'False' }),
    });
    nodeActions++;
    if (scenario === 'down') {
      history.recordNodeAction({
        atMs: at + 5 * MIN,
        summary: 'taint linkward.io/link-down:NoSchedule added',
        applied: JSON.stringify({ labels: { 'linkward.io/link': state }, taints: ['linkward.io/link-down:NoSchedule'], cordoned: false, condition: 'False' }),
      });
      nodeActions++;
    }
  }
  let bufferSamples = 0;
  // one transaction: 1440 separate commits take seconds on a real disk
  db.transaction(() => {
    for (let t = nowMs - 24 * HOUR + MIN; t <= nowMs; t += MIN) {
      const stuck = scenario === 'down' && t >= at;
      const records = stuck ? Math.round((t - at) / MIN) * 40 : Math.round(rnd() * 5);
      history.recordBuffer({ atMs: t, records, bytes: records * 900, oldestAgeS: records === 0 ? null : stuck ? (t - at) / 1000 : 2, sinkFailing: stuck });
      bufferSamples++;
    }
  })();
  return { samples: all.length, transitions, failovers, nodeActions, bufferSamples };
}

/** The /v1/status document a daemon would serve at the end of `scenario` (the page's other half). */
export function statusFor(scenario: Scenario, nowMs: number): Record<string, unknown> {
  const at = nowMs - TROUBLE_AGO_MS[scenario];
  const lastThroughput = nowMs - 30 * MIN;
  const wanHealthy = {
    name: 'wan',
    health: 'healthy',
    sinceMs: nowMs - 23 * HOUR,
    reasons: [],
    latest: { downloadMbps: 46.1, uploadMbps: 9.4, rttMs: 31.2, jitterMs: 2.4, lossPercent: 0, carrier: true, idleRttMs: 28, loadedRttMs: 150 },
    measuredAtMs: { downloadMbps: lastThroughput, uploadMbps: lastThroughput, loadedRttMs: lastThroughput, rttMs: nowMs - 2_000, lossPercent: nowMs - 2_000 },
  };
  const lteHealthy = {
    name: 'lte',
    health: 'healthy',
    sinceMs: nowMs - 23 * HOUR,
    reasons: [],
    latest: { downloadMbps: 15.2, uploadMbps: 4.1, rttMs: 66, lossPercent: 0, carrier: true },
    measuredAtMs: { downloadMbps: lastThroughput, uploadMbps: lastThroughput, rttMs: nowMs - 2_000, lossPercent: nowMs - 2_000 },
  };
  const wanDown = {
    ...wanHealthy,
    health: 'down',
    sinceMs: at + MIN,
    reasons: ['carrier=lost'],
    latest: { ...wanHealthy.latest, rttMs: undefined, lossPercent: 100, carrier: false },
    measuredAtMs: { ...wanHealthy.measuredAtMs, downloadMbps: at - 30 * MIN, uploadMbps: at - 30 * MIN, loadedRttMs: at - 30 * MIN },
  };
  const uplinks =
    scenario === 'degraded'
      ? {
          wan: {
            ...wanHealthy,
            health: 'degraded',
            sinceMs: at + 2 * MIN,
            reasons: ['loss=12%>5', 'rtt_p95=310ms>200'],
            latest: { ...wanHealthy.latest, downloadMbps: 3.1, uploadMbps: 0.6, rttMs: 290, lossPercent: 12 },
          },
          lte: lteHealthy,
        }
      : scenario === 'down'
        ? {
            wan: wanDown,
            lte: {
              ...lteHealthy,
              health: 'down',
              sinceMs: at + MIN,
              reasons: ['unreachable=0/3 targets<quorum'],
              latest: { ...lteHealthy.latest, rttMs: undefined, lossPercent: 100 },
              measuredAtMs: { ...lteHealthy.measuredAtMs, downloadMbps: at - 30 * MIN, uploadMbps: at - 30 * MIN },
            },
          }
        : scenario === 'failover'
          ? { wan: wanDown, lte: lteHealthy }
          : { wan: wanHealthy, lte: lteHealthy };
  const node = scenario === 'failover' ? 'healthy' : scenario === 'healthy' ? 'healthy' : scenario;
  const active = scenario === 'failover' ? 'lte' : 'wan';
  const stuckRecords = scenario === 'down' ? 1_600 : 3;
  const buffer = {
    state: scenario === 'down' ? 'degraded' : 'ok',
    ...(scenario === 'down' ? { message: 'upstream failing: vm (ECONNREFUSED)' } : {}),
    details: {
      usage: { records: stuckRecords, bytes: stuckRecords * 900 },
      gate: { mode: scenario === 'down' ? 'canary' : 'drain', maxPriority: 2 },
      lanes: [{ sink: 'vm', priority: 'normal', records: stuckRecords, bytes: stuckRecords * 900, oldestAgeSeconds: scenario === 'down' ? 40 * 60 : 2 }],
      sinks: [{ sink: 'vm', attempts: scenario === 'down' ? 12 : 0 }],
    },
  };
  const components: Record<string, unknown> = {
    daemon: { state: 'ok' },
    probes: { state: 'ok' },
    link: { state: 'ok' },
    route: { state: 'ok' },
    buffer,
    history: { state: 'ok' },
  };
  if (scenario === 'down') components.node = { state: 'error', message: 'Kubernetes API not reachable: connect ETIMEDOUT 10.0.0.1:6443' };
  return {
    version: '0.1.0',
    node: 'truck-17',
    nowMs,
    pid: 4321,
    uptimeSeconds: 86_400,
    ready: true,
    notReadyReasons: [],
    config: { kind: 'file', path: '/etc/linkward/config.yaml' },
    stateDir: '/var/lib/linkward',
    link: { atMs: nowMs, node, active, uplinks },
    components,
  };
}
