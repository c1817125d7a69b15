/** Edge-site lab script, steps 1–5 and 7 of issue 15: start, throttle → failover, both cut → down, restore → failback + flush (optionally kill -9 mid-outage). */
import type { SiteLab } from './site-lab.ts';
import { SINK_BULK, SINK_HIGH, PACE_FRACTION } from './site-lab-config.ts';
import { cut, gwBytes, shape, uncut } from './site-lab-net.ts';
import { CONDITION_TYPE, type Observer, type Snapshot } from './site-lab-observe.ts';
import { account, depth, probeBytes, readAcks, storedIn, storedSamples, switches, type Accounting } from './site-lab-telemetry.ts';
import { firstVouchedLow, setAsideWords, speedTestsSeen } from './site-lab-speedtests.ts';
import { defaultLinkHealthConfig } from '../../agent/config/link.ts';
import { metricSum } from './trust-lab.ts';

/** The site's normal line rates: tbf keeps them realistic and gives the flush pacer a measured upload to pace under. */
export const BASE_MBIT = { gw1: 20, gw2: 10 } as const;
/** Below downloadMbps.degraded.enter (5), above down.enter (0.5): gw1 degraded, not down. */
const THROTTLE_MBIT = 2;
/** Bounds (fast profile) — generous so a busy CPU is measured, not failed: the figures are reported separately. */
const FIRST_VERDICT_LIMIT_MS = 20_000;
const DEGRADE_LIMIT_MS = 45_000; // a speed test every 10 s, a confirming second one, 2 s enter dwell, 4 s degradedSwitchAfter
/**
 * When the agent set aside the throttled speed tests it could not vouch for (starved of CPU beside the other lab agents
 * and the burners), the 45 s bound may pass before it has any evidence: refusing is the agent doing its job. It must
 * then act within this long of the first low download figure it did vouch for (the log line comes after the
 * confirming second test; 2 s enter dwell, a 0.5 s light round, the observer's poll).
 */
const DEGRADE_AFTER_EVIDENCE_MS = 10_000;
/** The wait for the throttle's verdict stays bounded: an agent that never vouches for a figure fails here. */
const DEGRADE_WAIT_CAP_MS = 90_000;
/** The download level gw1 is throttled below (the default policy's degraded enter value). */
const DOWNLOAD_ENTER_MBPS = defaultLinkHealthConfig().thresholds.downloadMbps.degraded.enter;
const CUT_LIMIT_MS = 15_000;
const RECOVER_LIMIT_MS = 60_000; // 5 s exit dwell, 8 s failback hold, the low figure re-tested or expired
const FLUSH_LIMIT_MS = 60_000;
const K8S_LIMIT_MS = 20_000;
/** Healthy windows in which any decision or action is a false one. */
const HEALTHY_WINDOW_MS = 8_000;
/** How long the site stays fully cut (telemetry accumulates meanwhile). */
const OUTAGE_MS = 10_000;
/** Time on the metered backup before the second cut, so its high-priority-only flushing is visible in VictoriaMetrics. */
const METERED_DWELL_MS = 5_000;
/** Flush rate may exceed the pace target by this factor (burst of the first batch, headers, TCP/IP overhead). */
const PACE_SLACK = 1.5;
/** Timeline texts (site-lab-observe.ts) that are an action or a worse verdict; label changes such as bandwidth-class are not. */
const FALSE_ACTION =
  /^(node|gw1|gw2) (degraded|down)|^node \w+, active gw2|link-state=(degraded|down)|linkward\.io\/link:|^cordoned|NetworkDegraded=True|via gw2/;
/** Records a kill -9 may leave sent but not yet marked sent: at most the batches in flight (≈ 1 s of both sinks). */
const KILL_RESEND_LIMIT = 10;
/** An admin's own decorations, which linkward must never remove. */
export const ADMIN_TAINT = 'site.example/maintenance-window';

export interface Check {
  step: string;
  name: string;
  ok: boolean;
  detail: string;
}
export interface CycleFigures {
  label: string;
  firstVerdictMs: number | null;
  degradeDetectMs: number | null;
  /** gw1's speed tests between the throttle and the verdict, and how many download figures the agent set aside, with reasons. */
  throttleSetAside: string | null;
  failoverMs: number | null;
  downDetectMs: number | null;
  downTaintMs: number | null;
  recoveryMs: number | null;
  failbackMs: number | null;
  undecoratedMs: number | null;
  flushMs: number | null;
  flushKBps: number | null;
  paceKBps: number | null;
  /** The rate the agent's flush gate said it paces at during the flush (largest seen). */
  gateKBps: number | null;
  bufferedMax: number;
  accounting: Accounting | null;
  highOnMetered: number;
  bulkOnMetered: number;
  /** Bytes to VictoriaMetrics through each gateway while failed over to gw2 (IP bytes counted by nft in the gateway). */
  vmBytesOnMetered: { gw1: number; gw2: number };
  probeBytes: Record<string, number>;
  falseActions: string[];
  killedAtMs?: number;
  k8sRequestsDuringOutage?: number;
}

const health = (s: Snapshot, u: string): string => s.status?.link?.uplinks[u]?.health ?? 'unknown';
const lwTaint = (s: Snapshot): string | null => s.node?.taints.find((t) => t.key === 'linkward.io/link')?.effect ?? null;
const label = (s: Snapshot, k: string): string | undefined => s.node?.labels[`linkward.io/${k}`];

export async function runCycle(lab: SiteLab, obs: Observer, checks: Check[], o: { label: string; kill?: boolean }): Promise<CycleFigures> {
  const step = (n: string, text: string): void => obs.mark('step', `[${o.label}] step ${n}: ${text}`);
  const check = (s: string, name: string, ok: boolean, detail: string): void => void checks.push({ step: `${o.label} ${s}`, name, ok, detail });
  const f: CycleFigures = {
    label: o.label,
    firstVerdictMs: null,
    degradeDetectMs: null,
    throttleSetAside: null,
    failoverMs: null,
    downDetectMs: null,
    downTaintMs: null,
    recoveryMs: null,
    failbackMs: null,
    undecoratedMs: null,
    flushMs: null,
    flushKBps: null,
    paceKBps: null,
    gateKBps: null,
    bufferedMax: 0,
    accounting: null,
    highOnMetered: 0,
    bulkOnMetered: 0,
    vmBytesOnMetered: { gw1: 0, gw2: 0 },
    probeBytes: {},
    falseActions: [],
  };
  // A false action: on a healthy site, a verdict worse than healthy, a move to gw2, or any of linkward's restricting decorations.
  const decoratedSince = (from: number) =>
    obs.events.filter((e) => e.atMs >= from && (e.kind === 'action' || e.kind === 'decision') && FALSE_ACTION.test(e.text));

  // 1. Start: first verdict, node labelled healthy on gw1.
  shape('gw1', BASE_MBIT.gw1);
  shape('gw2', BASE_MBIT.gw2);
  lab.kubectl('taint', 'node', 'lws-edge', `${ADMIN_TAINT}=yes:PreferNoSchedule`, '--overwrite');
  step('1', 'start linkward (built CLI, config file in the lab folder)');
  const started = Date.now();
  await lab.startAgent();
  obs.start();
  await lab.startWorkload();
  f.firstVerdictMs = await obs.waitFor((s) => !!s.status?.link, FIRST_VERDICT_LIMIT_MS, started);
  check('1', 'first verdict', f.firstVerdictMs !== null, `first verdict ${f.firstVerdictMs} ms after start (light interval 500 ms)`);
  const labelled = await obs.waitFor((s) => label(s, 'link-state') === 'healthy' && label(s, 'uplink') === 'gw1' && s.via === 'gw1', K8S_LIMIT_MS);
  check('1', 'labelled healthy on gw1', labelled !== null, JSON.stringify(obs.latest.node?.labels));
  const healthyFrom = Date.now();
  await new Promise((r) => setTimeout(r, HEALTHY_WINDOW_MS));
  f.falseActions.push(...decoratedSince(healthyFrom).map((e) => `healthy start: ${e.text}`));

  // 2. Throttle gw1 below the degraded threshold.
  step('2', `throttle gw1 to ${THROTTLE_MBIT} Mbit/s (tbf)`);
  const throttledAt = Date.now();
  obs.mark('impairment', `gw1 throttled to ${THROTTLE_MBIT} Mbit/s`);
  shape('gw1', THROTTLE_MBIT);
  let sawDegradedDecor = false;
  f.degradeDetectMs = await obs.waitFor(
    (s) => {
      if (label(s, 'link-state') === 'degraded' && lwTaint(s) === 'PreferNoSchedule' && s.node?.condition?.status === 'True') sawDegradedDecor = true;
      return health(s, 'gw1') === 'degraded' || health(s, 'gw1') === 'down';
    },
    DEGRADE_WAIT_CAP_MS,
    throttledAt,
  );
  const tests = speedTestsSeen(lab.agentLog, 'gw1', throttledAt, throttledAt + (f.degradeDetectMs ?? DEGRADE_WAIT_CAP_MS));
  const evidence = firstVouchedLow(tests, DOWNLOAD_ENTER_MBPS);
  f.throttleSetAside = setAsideWords(tests);
  const inTime =
    f.degradeDetectMs !== null &&
    (f.degradeDetectMs <= DEGRADE_LIMIT_MS || (evidence !== undefined && throttledAt + f.degradeDetectMs <= evidence.atMs + DEGRADE_AFTER_EVIDENCE_MS));
  check(
    '2',
    'gw1 degraded',
    inTime && health(obs.latest, 'gw1') === 'degraded',
    `gw1 ${health(obs.latest, 'gw1')} ${JSON.stringify(obs.latest.status?.link?.uplinks.gw1?.reasons)} after ${f.degradeDetectMs ?? 'no verdict in'} ms ` +
      `(bound ${DEGRADE_LIMIT_MS} ms, or ${DEGRADE_AFTER_EVIDENCE_MS} ms after the first vouched low figure: ` +
      `${evidence ? `${evidence.atMs - throttledAt} ms` : 'none'}); gw1 tests meanwhile: ${f.throttleSetAside}`,
  );
  f.failoverMs = await obs.waitFor(
    (s) => {
      if (label(s, 'link-state') === 'degraded' && lwTaint(s) === 'PreferNoSchedule' && s.node?.condition?.status === 'True') sawDegradedDecor = true;
      return s.via === 'gw2' && s.status?.link?.active === 'gw2' && label(s, 'uplink') === 'gw2';
    },
    DEGRADE_LIMIT_MS,
    throttledAt,
  );
  check(
    '2',
    'degraded labels, condition and PreferNoSchedule taint seen',
    sawDegradedDecor,
    `timeline: ${obs.events
      .filter((e) => e.atMs >= throttledAt && e.kind === 'action')
      .map((e) => e.text)
      .join('; ')}`,
  );
  check(
    '2',
    'failover to gw2 confirmed (ip route, status, label uplink=gw2)',
    f.failoverMs !== null,
    `via ${obs.latest.via}, active ${obs.latest.status?.link?.active}, label ${label(obs.latest, 'uplink')}`,
  );
  const onMeteredFrom = Date.now() + 1000;
  const vmBytesAtFailover = { gw1: gwBytes('gw1').toVm, gw2: gwBytes('gw2').toVm };
  await new Promise((r) => setTimeout(r, METERED_DWELL_MS));
  const onMeteredTo = Date.now();
  let stored = await storedSamples(lab);
  f.highOnMetered = storedIn(stored, SINK_HIGH, onMeteredFrom, onMeteredTo - 1000);
  f.bulkOnMetered = storedIn(stored, SINK_BULK, onMeteredFrom, onMeteredTo);
  f.vmBytesOnMetered = { gw1: gwBytes('gw1').toVm - vmBytesAtFailover.gw1, gw2: gwBytes('gw2').toVm - vmBytesAtFailover.gw2 };
  const gw2Sent = f.vmBytesOnMetered.gw2;
  check(
    '2',
    'only high-priority telemetry while on the metered uplink',
    f.highOnMetered > 0 && f.bulkOnMetered === 0,
    `while on gw2: ${f.highOnMetered} high, ${f.bulkOnMetered} bulk records stored`,
  );
  check(
    '2',
    'telemetry follows the failover (bytes to VictoriaMetrics cross gw2)',
    gw2Sent > 0,
    `gw2 forwarded ${gw2Sent} B to VictoriaMetrics (gw1 ${f.vmBytesOnMetered.gw1} B) while ${f.highOnMetered} high records were stored`,
  );

  // 3. Cut both uplinks: node down, NoSchedule + cordon, telemetry accumulates, nothing sent.
  step('3', 'cut gw2 and gw1 (far side dead, carrier up)');
  const cutAt = Date.now();
  obs.mark('impairment', 'gw2 and gw1 cut');
  cut('gw2');
  cut('gw1');
  const bytesAtCut = { gw1: gwBytes('gw1').toVm, gw2: gwBytes('gw2').toVm };
  const depthAtCut = depth(await lab.metrics());
  const k8sAtCut = metricSum(await lab.metrics(), 'linkward_k8s_api_requests_total');
  f.downDetectMs = await obs.waitFor((s) => s.status?.link?.node === 'down', CUT_LIMIT_MS, cutAt);
  check('3', 'node down', f.downDetectMs !== null, `node ${obs.latest.status?.link?.node}`);
  if (lab.apiWhere === 'edge') {
    f.downTaintMs = await obs.waitFor(
      (s) => lwTaint(s) === 'NoSchedule' && s.node?.unschedulable === true && label(s, 'link-state') === 'down',
      K8S_LIMIT_MS,
      cutAt,
    );
    check(
      '3',
      'NoSchedule taint and cordon',
      f.downTaintMs !== null,
      `taints ${JSON.stringify(obs.latest.node?.taints)} unschedulable ${obs.latest.node?.unschedulable}`,
    );
  }
  if (o.kill) {
    await new Promise((r) => setTimeout(r, OUTAGE_MS / 2));
    const before = depth(await lab.metrics());
    obs.mark('impairment', `kill -9 linkward (buffer holds ${before} records)`);
    f.killedAtMs = Date.now();
    lab.kill9();
    await new Promise((r) => setTimeout(r, 1000));
    obs.mark('action', 'linkward restarted (same config, same state dir)');
    await lab.startAgent({ keepRoutes: true });
    const again = await obs.waitFor((s) => s.status?.link?.node === 'down', CUT_LIMIT_MS);
    check('5', 'down again after restart', again !== null, `node ${obs.latest.status?.link?.node}`);
    const after = depth(await lab.metrics());
    check('5', 'buffer kept across kill -9', after >= before, `records before kill ${before}, after restart ${after}`);
    await new Promise((r) => setTimeout(r, OUTAGE_MS / 2));
  } else await new Promise((r) => setTimeout(r, OUTAGE_MS));
  const depthEnd = depth(await lab.metrics());
  f.bufferedMax = depthEnd;
  if (lab.apiWhere === 'inet' && !o.kill) f.k8sRequestsDuringOutage = metricSum(await lab.metrics(), 'linkward_k8s_api_requests_total') - k8sAtCut;
  stored = await storedSamples(lab);
  const sentDuring = storedIn(stored, SINK_HIGH, cutAt + 500, Date.now()) + storedIn(stored, SINK_BULK, cutAt + 500, Date.now());
  check('3', 'telemetry accumulates in the buffer', depthEnd > depthAtCut, `buffer ${depthAtCut} → ${depthEnd} records`);
  check(
    '3',
    'nothing sent during the outage',
    sentDuring === 0 && gwBytes('gw1').toVm === bytesAtCut.gw1 && gwBytes('gw2').toVm === bytesAtCut.gw2,
    `${sentDuring} records stamped after the cut stored; bytes to VM gw1 +${gwBytes('gw1').toVm - bytesAtCut.gw1}, gw2 +${gwBytes('gw2').toVm - bytesAtCut.gw2}`,
  );

  // 4. Restore gw1: failback, decorations removed (the admin's stay), backlog flushed paced, every ack stored.
  step('4', 'restore gw1 (gw2 stays cut)');
  const restoredAt = Date.now();
  obs.mark('impairment', `gw1 restored (${BASE_MBIT.gw1} Mbit/s)`);
  const flushFrom = gwBytes('gw1').toVm;
  uncut('gw1');
  shape('gw1', BASE_MBIT.gw1);
  // The flush rate is measured between the first and the last poll that saw bytes, counting only the bytes that came
  // between them: the bytes seen at the first such poll left before it (a fencepost that made a paced 2.5-s flush
  // read 1.5 × its pace). One poll only: over the time since the last poll that saw none (never overstated).
  let quietAt = restoredAt;
  let firstByteAt = 0;
  let firstBytes = flushFrom;
  let lastByteAt = 0;
  let lastBytes = flushFrom;
  const trackFlush = (): void => {
    const gate = (obs.latest.status?.components.buffer?.details?.gate as { rateBps?: number } | undefined)?.rateBps;
    if (typeof gate === 'number' && Number.isFinite(gate)) f.gateKBps = Math.max(f.gateKBps ?? 0, gate / 1000);
    const b = gwBytes('gw1').toVm;
    const now = Date.now();
    if (b > lastBytes) {
      if (!firstByteAt) {
        firstByteAt = now;
        firstBytes = b;
      }
      lastByteAt = now;
      lastBytes = b;
    } else if (!firstByteAt) quietAt = now;
  };
  f.recoveryMs = await obs.waitFor(
    (s) => {
      trackFlush();
      return health(s, 'gw1') === 'healthy';
    },
    RECOVER_LIMIT_MS,
    restoredAt,
  );
  check(
    '4',
    'gw1 healthy again (no outage figure keeps it degraded)',
    f.recoveryMs !== null,
    `gw1 ${health(obs.latest, 'gw1')} ${JSON.stringify(obs.latest.status?.link?.uplinks.gw1?.reasons)}`,
  );
  f.failbackMs = await obs.waitFor(
    (s) => {
      trackFlush();
      return s.via === 'gw1' && s.status?.link?.active === 'gw1';
    },
    RECOVER_LIMIT_MS,
    restoredAt,
  );
  check('4', 'failback to gw1', f.failbackMs !== null, `via ${obs.latest.via}`);
  const flushEnd = Date.now() + FLUSH_LIMIT_MS;
  let d = depth(await lab.metrics());
  while (d > 0 && Date.now() < flushEnd) {
    trackFlush();
    await new Promise((r) => setTimeout(r, 200));
    d = depth(await lab.metrics());
  }
  trackFlush();
  f.flushMs = d === 0 ? Date.now() - restoredAt : null;
  const upMbps = obs.latest.status?.link?.uplinks.gw1?.latest.uploadMbps ?? null;
  f.paceKBps = upMbps === null ? null : ((upMbps * 1e6) / 8 / 1000) * PACE_FRACTION;
  const [flushBytes, flushWindowMs] =
    lastByteAt > firstByteAt ? [lastBytes - firstBytes, lastByteAt - firstByteAt] : [lastBytes - flushFrom, lastByteAt - quietAt];
  f.flushKBps = firstByteAt && flushWindowMs > 0 ? flushBytes / flushWindowMs : null; // bytes per ms = kB/s
  check('4', 'backlog flushed', d === 0, `buffer ${d} records left`);
  check(
    '4',
    'flush paced under the configured fraction of the measured upload',
    f.flushKBps !== null && f.paceKBps !== null && f.flushKBps <= f.paceKBps * PACE_SLACK,
    `gate ${f.gateKBps?.toFixed(0)} kB/s; flush ${f.flushKBps?.toFixed(0)} kB/s (${flushBytes} B over ${(flushWindowMs / 1000).toFixed(1)} s between polls); pace target ${f.paceKBps?.toFixed(0)} kB/s (${PACE_FRACTION} × ${upMbps} Mbit/s)`,
  );
  f.undecoratedMs = await obs.waitFor(
    (s) =>
      label(s, 'link-state') === 'healthy' &&
      label(s, 'uplink') === 'gw1' &&
      lwTaint(s) === null &&
      !s.node?.unschedulable &&
      s.node?.condition?.status !== 'True',
    K8S_LIMIT_MS,
    restoredAt,
  );
  check('4', "linkward's taint, cordon and condition removed", f.undecoratedMs !== null, `node ${JSON.stringify(obs.latest.node)}`);
  check('4', "the admin's taint stays", !!obs.latest.node?.taints.some((t) => t.key === ADMIN_TAINT), `taints ${JSON.stringify(obs.latest.node?.taints)}`);
  lab.stopWorkload();
  await new Promise((r) => setTimeout(r, 1500));
  const drainEnd = Date.now() + FLUSH_LIMIT_MS;
  while (depth(await lab.metrics()) > 0 && Date.now() < drainEnd) await new Promise((r) => setTimeout(r, 200));
  f.accounting = account(readAcks(lab), await storedSamples(lab));
  const a = f.accounting;
  check(
    '4',
    'every acknowledged record stored with its original timestamp',
    a.acked > 0 && a.missing.length === 0 && a.wrongTimestamp.length === 0,
    `${a.acked} acknowledged, ${a.delivered} stored, missing ${a.missing.length} ${JSON.stringify(a.missing.slice(0, 3))}, wrong timestamp ${a.wrongTimestamp.length}`,
  );
  // After kill -9 the batch in flight may be resent (at-least-once): identical samples, bounded by one batch per sink.
  if (o.kill)
    check(
      '5',
      `duplicates only identical resends (≤ ${KILL_RESEND_LIMIT}) after kill -9`,
      a.duplicates <= KILL_RESEND_LIMIT,
      `${a.duplicates} duplicate samples`,
    );
  else {
    // Delivery is at-least-once (docs/buffer.md): a batch whose answer never came is sent again under the same
    // Idempotency-Key, and a backend that had stored it keeps two identical samples. A duplicate without such a send is
    // a defect (duplicates are identical by construction: a changed value or timestamp fails the check above).
    const unanswered = metricSum(await lab.metrics(), 'linkward_buffer_send_failures_total', (l) => l.status === 'error' && l.verdict === 'retry');
    check(
      '4',
      'no duplicates, except identical resends after a send that got no answer',
      a.duplicates === 0 || unanswered > 0,
      `${a.duplicates} duplicate samples, ${unanswered} sends without an answer`,
    );
  }
  const settledFrom = Date.now();
  uncut('gw2');
  obs.mark('impairment', 'gw2 restored');
  await new Promise((r) => setTimeout(r, HEALTHY_WINDOW_MS));
  f.falseActions.push(
    ...decoratedSince(settledFrom)
      .filter((e) => !/^gw2 /.test(e.text))
      .map((e) => `healthy end: ${e.text}`),
  );
  const ms = await lab.metrics();
  f.probeBytes = { gw1: probeBytes(ms, 'gw1'), gw2: probeBytes(ms, 'gw2') };
  check('1,4', 'no false actions in the healthy phases', f.falseActions.length === 0, f.falseActions.join('; ') || 'none');
  obs.mark('step', `[${o.label}] done: ${switches(ms)} switches counted by the agent${o.kill ? ' since the restart' : ''}`);
  return f;
}

/** Condition type written by the agent (for report texts). */
export const CONDITION = CONDITION_TYPE;
