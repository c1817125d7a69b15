/** The node-actions component: reconciles this Node from link snapshots; backoff on API failure; drift repair; routes. */
import type { AgentContext, Component, ComponentStatus } from '../runtime/component.ts';
import type { LinkSnapshot } from '../core/types.ts';
import { createCoalescer } from '../base/coalesce.ts';
import { onActiveUplinkChange } from '../base/dispatcher-pool.ts';
import { codeOf, LwError, messageOf } from '../base/errors.ts';
import type { NodeApi } from './api.ts';
import { backoffDelayMs } from './backoff.ts';
import { connect, type Connection } from './connection.ts';
import type { ClusterSource } from './cluster.ts';
import { desiredDecorations, holdsNeeded, wantsRestrictive } from './desired.ts';
import { describePause } from './overrides.ts';
import { DrainEpisodes } from './drain-episode.ts';
import { EventOutbox } from './event-outbox.ts';
import { K8sErrorCode } from './errors.ts';
import { createK8sMetrics, type K8sMetrics } from './metrics.ts';
import { planNode } from './plan.ts';
import type { Desired, NodeView } from './types.ts';
import { reconcileOnce, type ReconcileResult } from './reconciler.ts';
import { releaseNode } from './release.ts';
import { nodeView } from './node-view.ts';
import { nodeRoutes } from './routes.ts';

/** The component's adapters, all injected: the composition root passes the real ones (adapters.ts), tests fakes. */
export interface NodeComponentDeps {
  /** Builds the API client (the real one imports lean or @kubernetes/client-node only when called). */
  createApi: (source: ClusterSource, timeoutMs: number) => Promise<NodeApi>;
  /** Finds the cluster credentials (in-cluster, kubeconfig, k3s), or null. */
  findCluster: (kubeconfig: string | undefined) => ClusterSource | null;
  /** Jitter source in [0,1) (tests pin it). */
  random: () => number;
}

interface LastError {
  code: string;
  message: string;
  atMs: number;
}

/**
 * Longest a stop waits for a reconcile pass still in flight. Against a healthy API a pass ends in tens of ms; against
 * one that accepts and never answers it would wait out requestTimeoutMs, eating the daemon's whole 1.5 s stop budget so
 * that route restore, stopped after this component, got 100 ms (issue 13). Stopping does not undo decorations, so an
 * abandoned request loses nothing: the next start reads the Node and reconciles again.
 */
const STOP_PASS_WAIT_MS = 300;

/** Creates the component; nothing touches the API (or loads the client) before `start()`. */
export function createNodeComponent(ctx: AgentContext, deps: NodeComponentDeps): Component {
  const cfg = ctx.config.kubernetes;
  const log = ctx.log.child({ component: 'node' });
  const clock = ctx.clock;
  const random = deps.random;
  let metrics: K8sMetrics | null = null;
  let source: ClusterSource | null = null;
  /** Everything that exists once the API client does: set in one step by start(), so none is ever half there. */
  let conn: Connection | null = null;
  /** What status() and /v1/node show: one cell, so state and message always change together. */
  let shown: { state: ComponentStatus['state']; message: string } = { state: 'starting', message: 'starting' };
  let stopped = false;
  let paused = false;
  let failures = 0;
  /** Active-uplink changes seen: a pass that fails after one started on the old path and is not counted as a failure. */
  let pathChanges = 0;
  let cancelRetry: (() => void) | null = null;
  let cancelResync: (() => void) | null = null;
  let last: ReconcileResult | null = null;
  let lastError: LastError | null = null;
  let lastSuccessMs: number | null = null;
  let unknownSinceMs: number | null = null;
  let checkedStaleHold = false;
  /** Whether the admin pause was in force at the last pass (null: not seen yet). */
  let wasPaused: boolean | null = null;
  const drains = new DrainEpisodes({
    nodeName: ctx.nodeName,
    cfg,
    clock,
    log,
    onEviction: (result) => metrics?.evictions.inc({ result }),
    onSkip: (reason) => metrics?.drainSkipped.inc({ reason }),
  });
  // Transition Events whose POST failed wait here (bounded, 1 h TTL) and are retried by later passes.
  const events = new EventOutbox({
    log,
    maxBackoffMs: cfg.maxBackoffMs,
    random,
    onSent: () => metrics?.decorations.inc({ kind: 'event' }),
    onDropped: (reason, n) => metrics?.eventsDropped.inc({ reason }, n),
    onPending: (n) => metrics?.eventsPending.set(n),
  });

  const snapshot = (): LinkSnapshot | null => ctx.bus.latestLink();

  function trackUnknown(s: LinkSnapshot | null): void {
    const known = s !== null && s.node !== 'unknown';
    if (known) unknownSinceMs = null;
    else unknownSinceMs ??= clock.nowMs();
  }

  function scheduleResync(): void {
    cancelResync?.();
    cancelResync = clock.setTimer(cfg.resyncSeconds * 1000, () => {
      if (!stopped) {
        if (!cancelRetry) trigger();
        scheduleResync();
      }
    });
  }

  /**
   * Passes never overlap; triggers during a pass collapse into one follow-up pass, which reads the latest snapshot.
   * While a failed pass backs off (cancelRetry) triggers only mark the work; the retry timer runs it.
   */
  const passes = createCoalescer(
    pass,
    (e) => log.error({ err: e }, 'node reconcile pass threw'),
    () => stopped || cancelRetry !== null,
  );

  function trigger(): void {
    if (stopped || paused || !conn) return;
    void passes.run();
  }

  /** One Event (and a log line) when the admin pause starts or ends, as seen by this process. */
  function notePause(r: ReconcileResult): void {
    const p = r.desired.paused ?? null;
    const now = p !== null;
    if (now === wasPaused || (wasPaused === null && !now)) {
      wasPaused = now;
      return;
    }
    wasPaused = now;
    const msg = p ? describePause(p) : 'pause annotation linkward.io/paused removed or expired: linkward acts on the link state again';
    log.warn({ paused: now, ...(p ? { until: p.untilMs, value: p.value } : {}) }, msg);
    if (cfg.events && !cfg.dryRun) {
      events.add({
        namespace: cfg.eventNamespace,
        reason: now ? 'LinkwardPaused' : 'LinkwardResumed',
        message: msg,
        type: 'Normal',
        node: { name: r.node.name, ...(r.node.uid ? { uid: r.node.uid } : {}) },
        nowMs: clock.nowMs(),
      });
    }
  }

  async function pass(): Promise<void> {
    if (!conn) return;
    const { api, fleet, watcher, renewal, gate } = conn;
    const s = snapshot();
    const path = pathChanges;
    trackUnknown(s);
    try {
      const r = await reconcileOnce(
        {
          api,
          cfg,
          nodeName: ctx.nodeName,
          log,
          fleet,
          events,
          onApplied: (kind) => metrics?.decorations.inc({ kind }),
          // The watch keeps the Node current: plan from it; GET only when there is none yet or after a 409.
          readNode: async (fresh) => (!fresh && watcher.node ? watcher.node : watcher.read()),
          onWritten: (n) => watcher.noteWritten(n),
        },
        { snapshot: s, unknownSinceMs, nowMs: clock.nowMs() },
      );
      last = r;
      failures = 0;
      lastSuccessMs = clock.nowMs();
      shown = {
        state: 'ok',
        message: r.desired.paused
          ? `link ${r.desired.state}; ${describePause(r.desired.paused)}`
          : r.desired.capped.length
            ? `${r.fleetReason ?? 'fleet cap reached'}; holding back ${r.desired.capped.join(', ')}`
            : `link ${r.desired.state}${cfg.dryRun ? ' (dry run: nothing written)' : ''}`,
      };
      // Give the hold back once restrictive decorations are gone; after a restart, also a hold left by the previous run.
      notePause(r);
      const needsHold = r.desired.hold || holdsNeeded(r.desired) || r.desired.capped.length > 0;
      if (!needsHold) fleet.forgetRefusals();
      if (!cfg.dryRun && !needsHold && (fleet.held(clock.nowMs()) || !checkedStaleHold)) {
        await fleet.release();
        checkedStaleHold = true;
      }
      metrics?.leaseHeld.set(fleet.held(clock.nowMs()) ? 1 : 0);
      renewal.schedule();
      drains.update(r.desired.drain, api);
      await events.flush(api, clock.nowMs()); // last: never throws, and a failed POST (which opens the backoff window) cuts nothing short
    } catch (e) {
      if (path !== pathChanges) {
        // Failed on the path it started on, which the failover has left: onPathChanged asked for a rerun on the new one.
        log.info({ code: codeOf(e), err: messageOf(e) }, 'node reconcile failed on the previous uplink; running it again on the new one');
        return;
      }
      failures++;
      const code = codeOf(e);
      lastError = { code, message: messageOf(e), atMs: clock.nowMs() };
      metrics?.reconcileErrors.inc({ code });
      // The gate opened a backoff window when the API did not answer; other failures (403, 404, ...) back off here.
      const delay = Math.max(gate.waitMs(), backoffDelayMs(failures, cfg.maxBackoffMs, random()));
      const hint = code === K8sErrorCode.NOT_FOUND ? ` (is the node name right? set node.name or $NODE_NAME; using "${ctx.nodeName}")` : '';
      shown = {
        state: 'degraded',
        message: `Kubernetes API failing (${code}): ${messageOf(e)}${hint}; desired state kept, retry ${failures} in ${Math.round(delay / 100) / 10} s`,
      };
      log.warn({ code, err: messageOf(e), failures, retryInMs: delay }, 'node reconcile failed; will retry');
      cancelRetry?.();
      cancelRetry = clock.setTimer(delay, () => {
        cancelRetry = null;
        trigger();
      });
    }
  }

  /** Desired decorations from the latest snapshot and the last Node read (pure; no API call). */
  function desiredNow(s: LinkSnapshot | null, node: NodeView, nowMs: number): Desired {
    const held = conn?.fleet.held(nowMs) ?? false;
    const restrictive = s !== null && wantsRestrictive(s.node, cfg);
    return desiredDecorations({
      snapshot: s,
      cfg,
      node,
      nowMs,
      fleetGranted: held || (restrictive && (last?.desired.capped.length ?? 0) === 0),
      unknownSinceMs,
    });
  }

  /** Whether planning `s` against `node` gives writes worth a pass (dry run: a different plan than last time). */
  function worthAPass(s: LinkSnapshot | null, node: NodeView, nowMs: number): boolean {
    if (!last) return true;
    const p = planNode(node, desiredNow(s, node, nowMs), cfg, nowMs);
    const changed = p.nodePatch !== null || p.statusPatch !== null;
    return cfg.dryRun ? changed && JSON.stringify(p.changes) !== JSON.stringify(last.plan.changes) : changed;
  }

  function onLink(s: LinkSnapshot): void {
    trackUnknown(s);
    if (cancelRetry) return; // backing off: the retry picks up this snapshot; no request before it
    if (!last) return trigger(); // no cached node yet: read it
    const nowMs = clock.nowMs();
    const held = conn?.fleet.held(nowMs) ?? false;
    const restrictive = wantsRestrictive(s.node, cfg);
    // Fleet: ask on a state change (a refused hold is retried by the resync, not by every snapshot); release when done.
    const needFleet = (restrictive && !held && last.desired.state !== s.node) || (!restrictive && held);
    if (needFleet || worthAPass(s, conn?.watcher.node ?? last.node, nowMs)) trigger();
  }

  /** The watch saw the Node change (an admin's edit, the pause annotation, our own write): re-plan; a pass only if needed. */
  function onNodeChanged(node: NodeView | null): void {
    if (!node || !last) return trigger();
    last = { ...last, node };
    if (worthAPass(snapshot(), node, clock.nowMs())) trigger();
  }

  /** GET /v1/node: desired vs actual (from the last read; no extra API call). */
  function view(): Record<string, unknown> {
    const nowMs = clock.nowMs();
    return nodeView({
      nodeName: ctx.nodeName,
      cfg,
      nowMs,
      source: conn?.api.source ?? source?.description ?? null,
      state: shown.state,
      message: shown.message,
      released: paused,
      last,
      snapshot: snapshot(),
      desiredFor: (s, node) => desiredNow(s, node, nowMs),
      lastSuccessMs,
      lastError,
      gate: conn?.gate ?? null,
      fleetHeld: conn?.fleet.held(nowMs) ?? false,
      drain: drains.status(),
      eventsPending: events.pending,
      watcher: conn?.watcher ?? null,
    });
  }

  const routes = nodeRoutes({
    view,
    async release() {
      if (!conn) throw new LwError(K8sErrorCode.NO_CLUSTER, shown.message);
      const { api, fleet, renewal } = conn;
      paused = true;
      renewal.cancel();
      await passes.idle(); // a pass in flight must not re-decorate after the release
      const r = await releaseNode(api, ctx.nodeName, cfg.conditionType, cfg.dryRun);
      await fleet.release().catch(() => undefined);
      last = null;
      shown = { state: 'ok', message: 'released: linkward decorations removed; node actions paused until POST /v1/node/resume or restart' };
      return { ...r, paused: true };
    },
    resume() {
      paused = false;
      trigger();
    },
  });

  return {
    name: 'node',
    async start(): Promise<void> {
      if (!cfg.enabled) {
        shown = { state: 'disabled', message: 'node actions off: kubernetes.enabled is false' };
        return;
      }
      source = deps.findCluster(cfg.kubeconfig);
      if (!source) {
        shown = {
          state: 'disabled',
          message:
            'node actions off: no Kubernetes cluster found (no in-cluster ServiceAccount, kubernetes.kubeconfig, $KUBECONFIG or /etc/rancher/k3s/k3s.yaml)',
        };
        log.info(shown.message);
        return;
      }
      metrics = createK8sMetrics(ctx.metrics);
      try {
        conn = await connect(
          { cfg, nodeName: ctx.nodeName, clock, log, random, metrics, source, createApi: deps.createApi },
          {
            active: () => !stopped && !paused,
            onHoldLost: trigger,
            onNode: onNodeChanged,
            onWatchError: (e, retryInMs) => {
              if (last) return; // passes report failures once the node was read
              lastError = { code: codeOf(e), message: messageOf(e), atMs: clock.nowMs() };
              shown = { state: 'degraded', message: `Kubernetes API failing (${codeOf(e)}): ${messageOf(e)}; retry in ${Math.round(retryInMs / 100) / 10} s` };
            },
            subscribe: () => ctx.bus.on('link', onLink),
            subscribeActive: (onChange) => ctx.bus.on('active', onActiveUplinkChange(ctx.bus.latestActive(), onChange)),
            onPathChanged: () => {
              // The backoff built up on the old path starts over; a pass backing off, or one in flight on the old path
              // (it reruns after it), runs now over the new one.
              failures = 0;
              pathChanges++;
              cancelRetry?.();
              cancelRetry = null;
              trigger();
            },
          },
        );
      } catch (e) {
        shown = { state: 'error', message: `node actions off: ${messageOf(e)}` };
        lastError = { code: codeOf(e), message: messageOf(e), atMs: clock.nowMs() };
        log.error({ code: codeOf(e), err: messageOf(e) }, 'cannot create the Kubernetes client; node actions off');
        return;
      }
      if (stopped) {
        // stop() ran while the client was being created: it could not reach what did not exist yet.
        conn.offLink();
        conn.api.close?.();
        return;
      }
      log.info({ source: source.description, dryRun: cfg.dryRun }, 'node actions on');
      scheduleResync();
      conn.watcher.start();
    },
    async stop(): Promise<void> {
      stopped = true;
      drains.abort();
      conn?.watcher.stop();
      conn?.offLink();
      cancelRetry?.();
      cancelResync?.();
      conn?.renewal.cancel();
      if (passes.busy()) {
        let cancel = (): void => {};
        await Promise.race([passes.idle(), new Promise<void>((res) => (cancel = clock.setTimer(STOP_PASS_WAIT_MS, res)))]);
        cancel();
      }
      conn?.api.close?.();
    },
    status(): ComponentStatus {
      return { state: shown.state, message: shown.message, details: view() };
    },
    routes: () => routes,
  };
}
