/** The composition root: builds real adapters, starts components and the server, handles signals and systemd. */
import type { AgentContext, ComponentStatus } from './runtime/component.ts';
import { type Running, safeStatus, startedRoutes, startFeatures, startHistory, stopAll } from './daemon-components.ts';
import { AgentBus } from './runtime/bus.ts';
import { systemClock } from './base/clock.ts';
import { loadConfig, type LoadedConfig } from './config/load.ts';
import { LwError, ErrorCode, codeOf, isLwError, messageOf } from './base/errors.ts';
import { Exit } from './cli/exit-codes.ts';
import { FEATURES } from './features.ts';
import { createMetricsRegistry, registerDaemonMetrics } from './http/metrics.ts';
import { startLoopDelayMonitor } from './http/loop-delay.ts';
import { nativeAddon } from './base/native-addon.ts';
import { mallocTrimEnabled, registerMallocTrimMetrics, startMallocTrim } from './runtime/malloc-trim.ts';
import { startPageServer } from './http/page-server.ts';
import { startServer } from './http/server.ts';
import { STATUS_SCHEMA_VERSION } from './http/status-schema.ts';
import { renderStatusPage } from './http/status-page.ts';
import { createLogger, routeProcessWarnings, type Logger } from './base/log.ts';
import { openState, type StateHandle } from './state/store.ts';
import { SystemdNotifier } from './systemd/notify.ts';
import { VERSION } from './base/version.ts';
import type { HistoryComponent } from './history/component.ts';
import type { HistoryDoc } from './history/query.ts';

/**
 * Graceful stop budget for the components (issue 13: the process must be gone within 2 s in every state). Nothing
 * acknowledged depends on it: the buffer commits before it answers 202, probes in flight are aborted and dropped.
 */
export const STOP_BUDGET_MS = 1_500;
/** Hard limit from the signal to process exit: a stop that overruns the budget (a blocked loop) exits 1 here. */
export const STOP_HARD_LIMIT_MS = 2_000;
/** Event-loop heartbeat period and the silence after which /healthz fails. */
const HEARTBEAT_MS = 500;
const HEARTBEAT_STALE_MS = 5_000;

export interface DaemonOptions {
  configPath: string | undefined;
  /** Overrides from CLI flags (applied after the file). */
  logFormat?: 'json' | 'pretty';
  logLevel?: string;
  listen?: string;
  stateDir?: string;
}

/** Runs the daemon until a signal; returns the exit code (start-up failures too: logged, never thrown). */
export async function runDaemon(opts: DaemonOptions): Promise<number> {
  // Signal handlers first: a SIGTERM during start-up must lead to a clean stop, not the default kill.
  const stopSignal = waitForStopSignal();
  let loaded: LoadedConfig;
  try {
    loaded = applyOverrides(loadConfig(opts.configPath), opts);
  } catch (e) {
    // No config, no configured format: the flag's, else JSON (the default), so the journal stays parseable.
    logFatal(createLogger({ level: 'info', format: opts.logFormat ?? 'json' }), e);
    return startFailureExit(e);
  }
  const { config } = loaded;
  const log = createLogger({ level: config.log.level, format: opts.logFormat ?? config.log.format });
  routeProcessWarnings(log);
  const notifier = new SystemdNotifier(log);
  let state: StateHandle;
  try {
    state = openState(loaded.stateDir, systemClock.nowMs());
  } catch (e) {
    logFatal(log, e);
    return startFailureExit(e);
  }
  if (state.quarantinedTo) {
    log.warn(
      { code: ErrorCode.STATE_DB_QUARANTINED, movedTo: state.quarantinedTo },
      `state.db was corrupt: moved to ${state.quarantinedTo} and replaced by a new one; probe history starts again (the file can be deleted once looked at)`,
    );
  }
  const loopDelay = startLoopDelayMonitor(systemClock);
  const metrics = createMetricsRegistry(loaded.nodeName, loopDelay);
  const trimFn = mallocTrimEnabled(process.env) ? nativeAddon()?.mallocTrim : undefined;
  const trimmer = trimFn ? startMallocTrim(systemClock, trimFn) : null;
  if (trimmer) registerMallocTrimMetrics(metrics, trimmer);
  const bus = new AgentBus();
  bus.onListenerError((e) => log.error({ err: e, code: codeOf(e) }, 'event listener failed'));
  const ctx: AgentContext = { config, log, clock: systemClock, metrics, bus, stateDir: loaded.stateDir, stateDb: state.db, nodeName: loaded.nodeName };
  const clock = ctx.clock;
  const run: Running = { ctx, components: [], started: new Set(), failed: new Map(), startedAtMs: clock.nowMs() };

  let lastBeat = clock.monoMs();
  let cancelBeat = (): void => {};
  const beatLoop = (): void => {
    lastBeat = clock.monoMs();
    cancelBeat = clock.setTimer(HEARTBEAT_MS, beatLoop);
  };
  beatLoop();
  const health = (): { ok: boolean; reasons: string[] } => {
    const silentMs = clock.monoMs() - lastBeat;
    return silentMs > HEARTBEAT_STALE_MS ? { ok: false, reasons: [`event loop blocked for ${Math.round(silentMs)} ms`] } : { ok: true, reasons: [] };
  };
  let serving = false;
  const notReady = (): string[] => {
    const reasons: string[] = [];
    if (!serving) reasons.push('starting');
    for (const [name, msg] of run.failed) reasons.push(`${name}: ${msg}`);
    for (const c of run.components) if (run.started.has(c.name)) reasons.push(...(c.notReadyReasons?.() ?? []).map((r) => `${c.name}: ${r}`));
    return reasons;
  };
  const componentStatus = (): Record<string, ComponentStatus> => {
    const out: Record<string, ComponentStatus> = { daemon: { state: serving ? 'ok' : 'starting' } };
    for (const c of run.components) {
      const failed = run.failed.get(c.name);
      out[c.name] = failed ? { state: 'error', message: failed } : safeStatus(c);
    }
    for (const f of FEATURES)
      if (!out[f.name])
        out[f.name] = run.failed.has(f.name) ? { state: 'error', message: run.failed.get(f.name) } : { state: 'disabled', message: 'disabled in config' };
    return out;
  };
  const statusDoc = (): Record<string, unknown> => ({
    schemaVersion: STATUS_SCHEMA_VERSION,
    version: VERSION,
    node: loaded.nodeName,
    /** The daemon's clock: clients and the page measure figure ages against it, not their own (skew). */
    nowMs: clock.nowMs(),
    pid: process.pid,
    uptimeSeconds: Math.round((clock.nowMs() - run.startedAtMs) / 1000),
    ready: notReady().length === 0,
    notReadyReasons: notReady(),
    config: loaded.source,
    stateDir: loaded.stateDir,
    ...(state.quarantinedTo ? { stateDbQuarantinedTo: state.quarantinedTo } : {}),
    eventLoopDelayP99Ms: loopDelay.read().p99Ms,
    link: bus.latestLink(),
    components: componentStatus(),
  });
  registerDaemonMetrics(metrics, state.quarantinedTo !== null, () => ({
    ready: notReady().length === 0,
    components: Object.fromEntries(Object.entries(componentStatus()).map(([k, v]) => [k, v.state])),
  }));

  // History (issue 13): built after the features, since it records from their status; the page reads it when present.
  let history: HistoryComponent | null = null;
  const pageHistory = (): HistoryDoc | undefined => {
    try {
      return history?.history(undefined, true);
    } catch (e) {
      log.warn({ err: e, code: codeOf(e) }, 'history unavailable for the page');
      return undefined;
    }
  };

  let server: Awaited<ReturnType<typeof startServer>>;
  try {
    server = await startServer(config.server.listen, {
      log,
      metrics,
      token: loaded.token,
      health,
      notReadyReasons: notReady,
      status: statusDoc,
      page: () => renderStatusPage(statusDoc(), undefined, pageHistory()),
      routes: startedRoutes(run),
      nowMs: () => clock.nowMs(),
      fastPath: config.server.fastPath,
    });
  } catch (e) {
    logFatal(log, e);
    cancelBeat();
    loopDelay.stop();
    trimmer?.stop();
    state.close();
    return startFailureExit(e);
  }
  log.info({ listen: server.address, version: VERSION, node: loaded.nodeName, stateDir: loaded.stateDir, config: loaded.source }, 'linkward listening');
  let pageServer: Awaited<ReturnType<typeof startPageServer>> | undefined;
  if (config.server.pageListen) {
    try {
      pageServer = await startPageServer(config.server.pageListen, {
        log,
        monoMs: () => clock.monoMs(),
        page: () => renderStatusPage(statusDoc(), undefined, pageHistory()),
      });
      log.info({ pageListen: pageServer.address }, 'status page served read-only on the site network (server.pageListen)');
    } catch (e) {
      // the agent's own work does not depend on the page: report it, keep running
      run.failed.set('page', messageOf(e));
      log.error({ code: codeOf(e), err: e }, messageOf(e));
    }
  }

  await startFeatures(run, log);
  history = await startHistory(run, log, componentStatus);
  serving = true;
  await notifier.ready(`serving on ${server.address}`);
  const watchdogMs = notifier.startWatchdog(() => health().ok);
  log.info(
    { readyInMs: Math.round(performance.now()) /* time since process start, not a clock reading */, watchdogMs, components: run.components.map((c) => c.name) },
    'linkward ready',
  );

  const signal = await stopSignal.promise;
  serving = false;
  await notifier.stopping();
  log.info({ signal }, 'stopping');
  const cancelForce = clock.setTimer(STOP_HARD_LIMIT_MS, () => {
    log.error({ budgetMs: STOP_BUDGET_MS }, 'graceful stop took too long; exiting');
    process.exit(1);
  });
  await stopAll(run, log, STOP_BUDGET_MS);
  await Promise.all([server.close(), pageServer?.close()]);
  cancelBeat();
  loopDelay.stop();
  trimmer?.stop();
  state.close();
  cancelForce();
  log.info('stopped');
  return 0;
}

/** Exit code of a start that failed: 2 for the configuration (systemd does not restart it: a restart cannot fix it), else 1. */
function startFailureExit(e: unknown): number {
  return isLwError(e, ErrorCode.CONFIG_INVALID) || isLwError(e, ErrorCode.CONFIG_UNREADABLE) ? Exit.CONFIG_INVALID : Exit.FAILURE;
}

/** Expected start-up failures (LwError) are logged with code and context; anything else with its stack. */
function logFatal(log: Logger, e: unknown): void {
  if (e instanceof LwError) log.fatal({ code: e.code, context: e.context }, e.message);
  else log.fatal({ code: codeOf(e), err: e }, messageOf(e));
}

function applyOverrides(loaded: LoadedConfig, opts: DaemonOptions): LoadedConfig {
  // Shallow copies only: the parsed config carries non-enumerable data (the failover policy on `uplinks`)
  // that structuredClone would silently drop.
  const base = loaded.config;
  const config = {
    ...base,
    server: opts.listen ? { ...base.server, listen: opts.listen } : base.server,
    log: opts.logLevel ? { ...base.log, level: opts.logLevel as typeof base.log.level } : base.log,
  };
  return { ...loaded, config, stateDir: opts.stateDir ?? loaded.stateDir };
}

/** Resolves on the first SIGTERM/SIGINT; a second signal exits at once with 128+signum. */
function waitForStopSignal(): { promise: Promise<string> } {
  let stopping = false;
  let resolveFn: (sig: string) => void = () => {};
  const promise = new Promise<string>((resolve) => (resolveFn = resolve));
  const onSignal = (sig: NodeJS.Signals): void => {
    if (stopping) {
      process.stderr.write(`linkward: second ${sig}: exiting now\n`);
      process.exit(128 + (sig === 'SIGINT' ? 2 : 15));
    }
    stopping = true;
    resolveFn(sig);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return { promise };
}
