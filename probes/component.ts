/** The probes component: one monitor per uplink, light-probe loops, cron'd throughput probes, retention, status and routes. */
import { createHash } from 'node:crypto';
import { createTask } from 'node-cron';
import { cronShape, SteppedCron } from './cron-schedule.ts';
import { RoundHurry } from './round-hurry.ts';
import type { AgentContext, Component, ComponentStatus, HttpRoute } from '../agent/runtime/component.ts';
import { effectiveUplinks } from '../agent/config/uplinks.ts';
import type { CommandRunner } from '../agent/base/exec.ts';
import { messageOf } from '../agent/base/errors.ts';
import { sendError, sendJson } from '../agent/base/http-respond.ts';
import { streamThroughput } from './progress-stream.ts';
import { dependencyLogger } from '../agent/base/log.ts';
import { DisturbanceWatch } from './disturbance.ts';
import { ProbeErrorCode } from './errors.ts';
import { createProbeMetrics } from './metrics.ts';
import { ProbeStore } from './store.ts';
import { parseTargets } from './targets.ts';
import { UplinkMonitor, type ThroughputOutcome } from './uplink-monitor.ts';

/** Retention pruning cadence: hourly is plenty for day-granular retention. */
export const PRUNE_EVERY_MS = 3_600_000;

/** Deterministic per-node offset in [0, spreadMs): a fleet spreads its throughput probes, each node stays predictable. */
export function nodeOffsetMs(nodeName: string, spreadMs: number): number {
  if (spreadMs <= 0) return 0;
  return createHash('sha256').update(nodeName).digest().readUInt32BE(0) % spreadMs;
}

/** The component's adapters, all injected: the composition root passes the real ones (probes/adapters.ts). */
export interface ProbesDeps {
  /** Runs `ping` for icmp:// targets. */
  runner: CommandRunner;
  /** Jitter for start offsets and schedules. */
  random: () => number;
}

/** Builds the probes component; nothing runs until start(). */
export function createProbesComponent(ctx: AgentContext, deps: ProbesDeps): Component & { monitors(): UplinkMonitor[] } {
  const cfg = ctx.config.probes;
  const log = ctx.log.child({ component: 'probes' });
  const clock = ctx.clock;
  let monitors: UplinkMonitor[] = [];
  let store: ProbeStore | undefined;
  const cancels = new Set<() => void>();
  const inflight = new Set<Promise<unknown>>();
  let cron: SteppedCron | undefined;
  let stopped = false;
  /** Aborted at stop: speed tests in progress end at once (a silent server would otherwise hold the stop for seconds). */
  const stopping = new AbortController();
  let lightTargets = 0;
  let watch: DisturbanceWatch | undefined;

  const track = <T>(p: Promise<T>): Promise<T> => {
    inflight.add(p);
    void p.finally(() => inflight.delete(p)).catch(() => undefined);
    return p;
  };
  const later = (ms: number, fn: () => void): (() => void) => {
    const cancel = clock.setTimer(ms, () => {
      cancels.delete(cancel);
      if (!stopped) fn();
    });
    cancels.add(cancel);
    return () => {
      cancel();
      cancels.delete(cancel);
    };
  };
  const hurry = new RoundHurry<UplinkMonitor>(cfg.intervalMs);
  const hurryOthers = (failed: UplinkMonitor): void => {
    if (stopped) return; // a round that ends during stop starts no other
    for (const m of hurry.hurry(failed, ctx.bus.latestLink()?.active === failed.name, clock.monoMs())) loop(m);
  };
  const loop = (m: UplinkMonitor): void => {
    void track(
      m
        .lightRound()
        .then(
          (s) => {
            if (s.reachable === false) hurryOthers(m);
            const nowMs = clock.nowMs();
            const why = m.wantsRecheck(nowMs) ? 'recheck' : m.wantsOnDemand(nowMs) ? 'on_demand' : null;
            if (why)
              void track(
                m.throughput().then(
                  (r) => logThroughput(m.name, why, r),
                  (e) => log.warn({ uplink: m.name, why, err: messageOf(e) }, 'throughput probe failed'),
                ),
              );
          },
          (e) => log.error({ uplink: m.name, err: messageOf(e) }, 'light round failed'),
        )
        .finally(() => {
          hurry.waits(
            m,
            later(m.nextDelayMs(), () => {
              hurry.started(m);
              loop(m);
            }),
          );
        }),
    );
  };
  const logThroughput = (uplink: string, why: string, r: ThroughputOutcome): void => {
    const s = r.sample;
    log.info(
      {
        uplink,
        why,
        ran: r.ran,
        skipped: r.skipped,
        down: s?.downloadMbps,
        downLowerBound: s?.downloadLowerBound,
        up: s?.uploadMbps,
        upLowerBound: s?.uploadLowerBound,
        loadedRttMs: s?.loadedRttMs,
        suspect: r.suspect,
        bytes: s?.bytesUsed,
      },
      'throughput probe',
    );
  };
  const throughputAll = async (): Promise<void> => {
    for (const m of monitors) {
      if (stopped) return;
      const r = await m.throughput().catch((e) => log.warn({ uplink: m.name, err: messageOf(e) }, 'throughput probe failed'));
      if (r) logThroughput(m.name, 'scheduled', r);
    }
  };
  const prune = (): void => {
    try {
      store?.prune(clock.nowMs(), cfg.retentionDays);
    } catch (e) {
      log.warn({ err: messageOf(e) }, 'pruning probe results failed');
    }
    later(PRUNE_EVERY_MS, prune);
  };

  const status = (): ComponentStatus => {
    if (!cfg.enabled) return { state: 'disabled', message: 'disabled: probes.enabled is false' };
    if (lightTargets === 0)
      return {
        state: 'disabled',
        message:
          'not measuring: no probe targets configured. Run `linkward init` to propose them (and uplinks) from this machine, or set probes.targets (e.g. ["1.1.1.1:443", "9.9.9.9:443", "8.8.8.8:443"]), then restart',
        details: details(),
      };
    const withTargets = monitors.filter((m) => m.targetCount() > 0);
    const last = withTargets.map((m) => m.lastLight());
    if (last.some((s) => s === undefined)) return { state: 'starting', message: 'waiting for the first light probe round', details: details() };
    const up = last.filter((s) => s?.reachable).length;
    if (up === last.length) return { state: 'ok', details: details() };
    const bad = withTargets.filter((m) => !m.lastLight()?.reachable).map((m) => m.name);
    return { state: up === 0 ? 'down' : 'degraded', message: `no quorum of probe targets on: ${bad.join(', ')}`, details: details() };
  };
  const details = (): Record<string, unknown> => {
    const nowMs = clock.nowMs();
    return { ...(watch ? { warmupEndsAtMs: watch.warmupEndsAtMs() } : {}), uplinks: Object.fromEntries(monitors.map((m) => [m.name, m.details(nowMs)])) };
  };

  const routes = (): HttpRoute[] => [
    { method: 'GET', path: '/v1/probes', auth: 'token', handle: (_req, res) => sendJson(res, 200, { status: status(), ...details() }) },
    {
      method: 'POST',
      path: '/v1/probes/throughput',
      auth: 'token',
      handle: async (_req, res, url) => {
        const name = url.searchParams.get('uplink');
        const targets = name ? monitors.filter((m) => m.name === name) : monitors;
        if (targets.length === 0) return sendError(res, 404, 'LW_PROBE_UNKNOWN_UPLINK', `no uplink named "${name ?? ''}"; see /v1/probes`);
        if (!cfg.throughput.enabled)
          return sendError(
            res,
            409,
            ProbeErrorCode.THROUGHPUT_DISABLED,
            'throughput probes are off (probes.throughput.enabled: false); enable them in the config to run one',
          );
        const flag = (k: string): boolean | undefined => (url.searchParams.has(k) ? url.searchParams.get(k) !== '0' : undefined);
        const dl = flag('download');
        const ul = flag('upload');
        const dirs = { ...(dl !== undefined ? { download: dl } : {}), ...(ul !== undefined ? { upload: ul } : {}), force: true };
        if (url.searchParams.get('progress') === '1') return streamThroughput(res, targets, dirs, clock, track);
        const results = [];
        for (const m of targets) results.push(await track(m.throughput(dirs)));
        sendJson(res, 200, { results });
      },
    },
  ];

  return {
    name: 'probes',
    monitors: () => monitors,
    async start() {
      if (!cfg.enabled) return;
      store = new ProbeStore(ctx.stateDb);
      const metrics = createProbeMetrics(ctx.metrics);
      const random = deps.random;
      watch = new DisturbanceWatch(clock);
      monitors = effectiveUplinks(ctx.config.uplinks).map(
        (u) =>
          new UplinkMonitor({
            uplink: u,
            targets: parseTargets(u.targets ?? cfg.targets, cfg.echoPort),
            cfg,
            clock,
            log,
            store: store as ProbeStore,
            metrics,
            runner: deps.runner,
            random,
            emit: (s) => ctx.bus.emit('sample', s),
            watch,
            view: () => ctx.bus.latestLink()?.uplinks[u.name],
            stopping: stopping.signal,
          }),
      );
      lightTargets = monitors.reduce((n, m) => n + m.targetCount(), 0);
      prune();
      for (const m of monitors) if (m.targetCount() > 0) later(Math.round(random() * 500), () => loop(m));
      if (cfg.throughput.enabled && cfg.throughput.url) {
        const offset = nodeOffsetMs(ctx.nodeName, cfg.throughput.spreadMs);
        // node-cron matches the slots; SteppedCron fires them on our clock (never started: node-cron arms no timer)
        const matcher = createTask(cfg.throughput.cron, () => {}, { name: 'linkward-probes-throughput', logger: dependencyLogger(log, 'node-cron') });
        cron = new SteppedCron(clock, log, matcher, cronShape(cfg.throughput.cron), () => later(offset, () => void track(throughputAll())));
        cron.start();
        log.info({ cron: cfg.throughput.cron, offsetMs: offset }, 'throughput probes scheduled');
      }
      if (lightTargets === 0)
        log.warn('no probe targets configured: light probes are off and link state stays unknown; run `linkward init` or set probes.targets');
    },
    async stop() {
      stopped = true;
      stopping.abort();
      for (const c of cancels) c();
      cancels.clear();
      await cron?.stop();
      await Promise.allSettled([...inflight]);
    },
    status,
    routes,
  };
}
