/** The node-actions component: finds the cluster, connects and hands the link to the pass loop; stop, status and routes. */
import type { AgentContext, Component, ComponentStatus } from '../runtime/component.ts';
import type { LinkSnapshot } from '../core/types.ts';
import { onActiveUplinkChange } from '../base/dispatcher-pool.ts';
import { codeOf, LwError, messageOf } from '../base/errors.ts';
import type { NodeApi } from './api.ts';
import { connect, type Connection } from './connection.ts';
import type { ClusterSource } from './cluster.ts';
import { DrainEpisodes } from './drain-episode.ts';
import { EventOutbox } from './event-outbox.ts';
import { K8sErrorCode } from './errors.ts';
import { createK8sMetrics, type K8sMetrics } from './metrics.ts';
import { NodeStatus, watchFailedMessage } from './node-status.ts';
import { PassLoop } from './pass-loop.ts';
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
  /** What status() and /v1/node show. */
  const status = new NodeStatus();
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
  const loop = new PassLoop({ cfg, nodeName: ctx.nodeName, clock, log, random, snapshot, status, events, drains });

  /** GET /v1/node: desired vs actual (from the last read; no extra API call). */
  function view(): Record<string, unknown> {
    const nowMs = clock.nowMs();
    return nodeView({
      nodeName: ctx.nodeName,
      cfg,
      nowMs,
      source: conn?.api.source ?? source?.description ?? null,
      state: status.state,
      message: status.message,
      released: loop.paused,
      last: loop.last,
      snapshot: snapshot(),
      desiredFor: (s, node) => loop.desiredNow(s, node, nowMs),
      lastSuccessMs: status.lastSuccessMs,
      lastError: status.lastError,
      gate: conn?.gate ?? null,
      fleetHeld: conn?.fleet.held() ?? false,
      drain: drains.status(),
      eventsPending: events.pending,
      watcher: conn?.watcher ?? null,
    });
  }

  const routes = nodeRoutes({
    view,
    async release() {
      if (!conn) throw new LwError(K8sErrorCode.NO_CLUSTER, status.message);
      const { api, fleet, renewal } = conn;
      loop.pause();
      renewal.cancel();
      await loop.idle(); // a pass in flight must not re-decorate after the release
      const r = await releaseNode(api, ctx.nodeName, cfg.conditionType, cfg.dryRun);
      await fleet.release().catch(() => undefined);
      loop.forget();
      status.show('ok', 'released: linkward decorations removed; node actions paused until POST /v1/node/resume or restart');
      return { ...r, paused: true };
    },
    resume() {
      loop.resume();
    },
  });

  return {
    name: 'node',
    async start(): Promise<void> {
      if (!cfg.enabled) {
        status.show('disabled', 'node actions off: kubernetes.enabled is false');
        return;
      }
      source = deps.findCluster(cfg.kubeconfig);
      if (!source) {
        status.show(
          'disabled',
          'node actions off: no Kubernetes cluster found (no in-cluster ServiceAccount, kubernetes.kubeconfig, $KUBECONFIG or /etc/rancher/k3s/k3s.yaml)',
        );
        log.info(status.message);
        return;
      }
      metrics = createK8sMetrics(ctx.metrics);
      try {
        conn = await connect(
          { cfg, nodeName: ctx.nodeName, clock, log, random, metrics, source, createApi: deps.createApi },
          {
            active: () => !loop.stopped && !loop.paused,
            onHoldLost: () => loop.trigger(),
            onNode: (node) => loop.onNodeChanged(node),
            onWatchError: (e, retryInMs) => {
              if (loop.last) return; // passes report failures once the node was read
              status.failed(e, clock.nowMs());
              status.show('degraded', watchFailedMessage(e, retryInMs));
            },
            subscribe: () => ctx.bus.on('link', (s) => loop.onLink(s)),
            subscribeActive: (onChange) => ctx.bus.on('active', onActiveUplinkChange(ctx.bus.latestActive(), onChange)),
            onPathChanged: () => loop.pathChanged(),
          },
        );
      } catch (e) {
        status.show('error', `node actions off: ${messageOf(e)}`);
        status.failed(e, clock.nowMs());
        log.error({ code: codeOf(e), err: messageOf(e) }, 'cannot create the Kubernetes client; node actions off');
        return;
      }
      if (loop.stopped) {
        // stop() ran while the client was being created: it could not reach what did not exist yet.
        conn.offLink();
        conn.api.close?.();
        return;
      }
      log.info({ source: source.description, dryRun: cfg.dryRun }, 'node actions on');
      loop.start(conn, metrics);
      conn.watcher.start();
    },
    async stop(): Promise<void> {
      loop.stop();
      drains.abort();
      conn?.watcher.stop();
      conn?.offLink();
      conn?.renewal.cancel();
      if (loop.busy()) {
        let cancel = (): void => {};
        await Promise.race([loop.idle(), new Promise<void>((res) => (cancel = clock.setTimer(STOP_PASS_WAIT_MS, res)))]);
        cancel();
      }
      conn?.api.close?.();
    },
    status(): ComponentStatus {
      return { state: status.state, message: status.message, details: view() };
    },
    routes: () => routes,
  };
}
