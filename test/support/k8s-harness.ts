/** Harness for node-action tests: test API server + kubeconfig, agents (node component) on a ManualClock, link snapshots, waits. */
import type { Database } from 'better-sqlite3';
import { Registry } from 'prom-client';
import { AgentBus } from '../../agent/runtime/bus.ts';
import { ManualClock } from '../../agent/base/clock.ts';
import type { AgentContext, Component } from '../../agent/runtime/component.ts';
import { validateConfig } from '../../agent/config/load.ts';
import type { LinkHealth, LinkSnapshot } from '../../agent/core/types.ts';
import { silentLogger } from '../../agent/base/log.ts';
import { createNodeComponent } from '../../agent/k8s/component.ts';
import { realNodeDeps } from '../../agent/k8s/adapters.ts';
import { toNodeView } from '../../agent/k8s/client-node-api.ts';
import type { NodeView } from '../../agent/k8s/types.ts';
import { KubeApiServer } from './kube-apiserver/server.ts';
import { writeKubeconfig } from './kube-apiserver/kubeconfig.ts';
import { seedNode } from './kube-apiserver/fixtures.ts';

/** The node actions never use the state DB; any use is a bug and throws. */
const NO_DB = new Proxy(
  {},
  {
    get: () => {
      throw new Error('node actions must not use ctx.stateDb');
    },
  },
) as unknown as Database;

export interface Agent {
  ctx: AgentContext;
  component: Component;
  emit(state: LinkHealth, downloadMbps?: number): void;
  details(): Record<string, unknown>;
}

export interface Harness {
  api: KubeApiServer;
  kubeconfig: string;
  clock: ManualClock;
  agents: Agent[];
  agent(nodeName: string, kubernetes?: Record<string, unknown>): Promise<Agent>;
  node(name: string): NodeView;
  close(): Promise<void>;
}

export function snapshotOf(state: LinkHealth, atMs: number, downloadMbps = 42): LinkSnapshot {
  return {
    atMs,
    node: state,
    active: 'wan0',
    uplinks: {
      wan0: {
        name: 'wan0',
        health: state,
        sinceMs: atMs,
        reasons: state === 'healthy' || state === 'unknown' ? [] : ['down=3.1Mbps<5'],
        latest: { atMs, downloadMbps, rttP95Ms: 80, lossPercent: 0 },
      },
    },
  };
}

/** Starts an API server with `nodes` seeded; agents are created on demand and stopped by close(). */
export async function startHarness(nodes: string[] = ['n1']): Promise<Harness> {
  const api = new KubeApiServer();
  await api.start();
  for (const n of nodes) seedNode(api, n, { fleet: 'edge' });
  const kubeconfig = writeKubeconfig(api.url);
  const clock = new ManualClock(Date.now());
  const agents: Agent[] = [];
  return {
    api,
    kubeconfig,
    clock,
    agents,
    async agent(nodeName, kubernetes = {}) {
      const v = validateConfig({ kubernetes: { kubeconfig, requestTimeoutMs: 1000, ...kubernetes } });
      if (!v.ok) throw new Error(v.problems.map((p) => `${p.path}: ${p.message}`).join('\n'));
      const ctx: AgentContext = {
        config: v.config,
        log: silentLogger(),
        clock,
        metrics: new Registry(),
        bus: new AgentBus(),
        stateDir: '/nonexistent',
        stateDb: NO_DB,
        nodeName,
      };
      const component = createNodeComponent(ctx, { ...realNodeDeps(ctx), random: () => 0.5 });
      await component.start();
      const a: Agent = {
        ctx,
        component,
        emit: (state, mbps) => ctx.bus.emit('link', snapshotOf(state, clock.nowMs(), mbps)),
        details: () => component.status().details ?? {},
      };
      agents.push(a);
      return a;
    },
    node(name) {
      const o = api.store.get('nodes', '', name);
      if (!o) throw new Error(`node ${name} not in the test API server`);
      return toNodeView(o as never);
    },
    async close() {
      for (const a of agents) await a.component.stop();
      await api.stop();
    },
  };
}

/** Polls `pred` every 10 ms (real time) until true; fails after `timeoutMs` with `what`. */
export async function waitFor(what: string, pred: () => boolean, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (pred()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for: ${what}`);
}

/** Waits until every request in flight has been answered and the agents are idle (no new request for 50 ms). */
export async function settle(api: KubeApiServer, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  let seen = -1;
  while (Date.now() < end) {
    await new Promise((r) => setTimeout(r, 50));
    if (api.requests.length === seen) return;
    seen = api.requests.length;
  }
  throw new Error('API traffic did not settle');
}
