/** The node component's link to the cluster: the metered, gated API client, the fleet semaphore, hold renewal and the Node watch. */
import type { Clock } from '../base/clock.ts';
import type { Logger } from '../base/log.ts';
import type { KubernetesConfig } from '../config/k8s.ts';
import type { NodeApi } from './api.ts';
import { ApiGate } from './api-gate.ts';
import type { ClusterSource } from './cluster.ts';
import { FleetSemaphore } from './fleet.ts';
import { HoldRenewal } from './hold-renewal.ts';
import { meteredApi } from './metered-api.ts';
import type { K8sMetrics } from './metrics.ts';
import { NodeWatcher } from './node-watch.ts';
import type { NodeView } from './types.ts';

/** Everything that exists once the API client does; built in one step, so no part is ever there without the others. */
export interface Connection {
  api: NodeApi;
  gate: ApiGate;
  fleet: FleetSemaphore;
  renewal: HoldRenewal;
  watcher: NodeWatcher;
  /** Ends the component's subscriptions (link snapshots, active uplink). */
  offLink: () => void;
}

export interface ConnectOptions {
  cfg: KubernetesConfig;
  nodeName: string;
  clock: Clock;
  log: Logger;
  random: () => number;
  metrics: K8sMetrics;
  source: ClusterSource;
  createApi: (source: ClusterSource, timeoutMs: number) => Promise<NodeApi>;
}

/** What the component does with the connection's events. */
export interface ConnectHooks {
  /** Whether hold renewal may act (not stopped, not paused by an operator). */
  active(): boolean;
  /** The fleet hold was lost: re-plan. */
  onHoldLost(): void;
  /** The watch saw the Node (null: it is gone or unreadable). */
  onNode(node: NodeView | null): void;
  /** The watch failed before the first pass; it retries after `retryInMs`. */
  onWatchError(e: unknown, retryInMs: number): void;
  /** Subscribes to link snapshots; returns the unsubscribe. */
  subscribe(): () => void;
  /** Subscribes to changes of the active uplink (the failover's announcements); returns the unsubscribe. */
  subscribeActive(onChange: (from: string | null, to: string) => void): () => void;
  /** The path to the API server changed and the connection is ready for it: a pass backing off may run now. */
  onPathChanged(): void;
}

/** Builds the client and everything on it; throws only when the client cannot be created. The watch is not started. */
export async function connect(o: ConnectOptions, hooks: ConnectHooks): Promise<Connection> {
  const { cfg, clock, log, random, metrics: m } = o;
  const raw = await o.createApi(o.source, cfg.requestTimeoutMs);
  const gate = new ApiGate(
    meteredApi(raw, (verb, result) => m.apiRequests.inc({ verb, result })),
    {
      clock,
      maxBackoffMs: cfg.maxBackoffMs,
      probeTimeoutMs: cfg.requestTimeoutMs,
      random,
      onChange: (r) => {
        m.apiUp.set(r.up ? 1 : 0);
        if (r.lastSuccessMs !== null) m.apiLastSuccess.set(r.lastSuccessMs / 1000);
      },
    },
  );
  const api = gate.api;
  const fleet = new FleetSemaphore(api, cfg.fleet, o.nodeName, random, clock);
  const renewal = new HoldRenewal({
    fleet,
    clock,
    log,
    random,
    maxBackoffMs: cfg.maxBackoffMs,
    dryRun: cfg.dryRun,
    gateWaitMs: () => gate.waitMs(),
    active: hooks.active,
    onLost: hooks.onHoldLost,
  });
  // The watch's first read triggers the first pass (one GET at start, not two).
  const watcher = new NodeWatcher({
    api,
    nodeName: o.nodeName,
    clock,
    log,
    random,
    maxBackoffMs: cfg.maxBackoffMs,
    gateWaitMs: () => gate.waitMs(),
    onNode: hooks.onNode,
    onError: hooks.onWatchError,
  });
  const offLink = hooks.subscribe();
  const offActive = hooks.subscribeActive((from, to) => {
    // Fresh connections first (the old ones keep the old source address, and linkward's rule keeps that on the old
    // uplink), then a backoff that starts over for the new path, then the watch on it. `api` is the gated, metered
    // client; both wrappers pass reconnect() through to the adapter.
    api.reconnect?.();
    gate.pathChanged();
    watcher.reopen(`active uplink ${from ?? 'none'} → ${to}`);
    hooks.onPathChanged();
  });
  return {
    api,
    gate,
    fleet,
    renewal,
    watcher,
    offLink: () => {
      offLink();
      offActive();
    },
  };
}
