/** Helpers for route component tests: a two-uplink fake kernel, a fake conntrack, link snapshots, and a context with fast policy settings. */
import type { LinkHealth, LinkSnapshot } from '../../agent/core/types.ts';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { systemClock, type Clock } from '../../agent/base/clock.ts';
import { silentLogger } from '../../agent/base/log.ts';
import { createIpActuator } from '../../agent/route/actuator.ts';
import type { RouteDeps } from '../../agent/route/component.ts';
import type { K3sFacts } from '../../agent/route/k3s.ts';
import type { AgentContext } from '../../agent/runtime/component.ts';
import type { CommandRunner, RunOptions, RunResult } from '../../agent/base/exec.ts';
import { makeTestContext, type TestContext } from './context.ts';
import { FakeIp } from './route-fake-ip.ts';
import { createRouteStore, type RouteStore } from '../../agent/route/store.ts';

export const WAN = { name: 'wan', interface: 'eth0', gateway: '10.0.1.1', priority: 10, targets: ['10.99.0.1:443'] };
export const LTE = { name: 'lte', interface: 'wwan0', gateway: '10.0.2.1', priority: 20, targets: ['10.99.0.1:443'] };

/** Kernel with eth0/wwan0 and a DHCP default via eth0. */
export function twoUplinkKernel(): FakeIp {
  const ip = new FakeIp().addLink('eth0', '10.0.1.2/24').addLink('wwan0', '10.0.2.2/24');
  ip.routes.push({ table: 'main', dst: 'default', gateway: '10.0.1.1', dev: 'eth0', metric: 100, protocol: 'dhcp' });
  return ip;
}

/** Dual-stack eth0/wwan0 (fd00:1::2, fd00:2::2), a DHCP IPv4 default and a router-advertised IPv6 default via eth0. */
export function dualStackKernel(): FakeIp {
  const ip = new FakeIp().addLink('eth0', '10.0.1.2/24', true, 'fd00:1::2/64').addLink('wwan0', '10.0.2.2/24', true, 'fd00:2::2/64');
  ip.routes.push(
    { table: 'main', dst: 'default', gateway: '10.0.1.1', dev: 'eth0', metric: 100, protocol: 'dhcp' },
    { family: 6, table: 'main', dst: 'default', gateway: 'fe80::1', dev: 'eth0', metric: 1024, protocol: 'ra' },
  );
  return ip;
}

/** Real clock (the revert helper is a real process on wall time), fast policy. */
export function routeContext(policy: Record<string, unknown> = {}, list: unknown[] = [WAN, LTE], clock: Clock = systemClock): TestContext {
  const ctx = makeTestContext(
    {
      uplinks: { policy: { candidateSamples: 2, confirmTimeout: 400, revertGrace: 2000, failbackHold: 1000, minSwitchInterval: 0, ...policy }, list },
    } as never,
    { clock },
  );
  // Leave the handle open until exit: closing it while Statement objects await GC makes better-sqlite3 12.9 on
  // Node 24 abort at process exit ("Assertion failed: (env) != nullptr"), flakily. Only the directory is removed.
  return { ...ctx, cleanup: () => rmSync(ctx.stateDir, { recursive: true, force: true }) };
}

export const NO_K3S: K3sFacts = { configs: [], unitArgs: [], cmdlines: [], binary: false };

/** Route component deps on the fake kernel `ip`; the revert helper must never touch the host: it runs /bin/true instead of ip. */
export function fakeKernelDeps(ip: FakeIp, reachable: () => boolean, facts = NO_K3S): RouteDeps {
  return {
    actuator: createIpActuator({ runner: ip, log: silentLogger() }),
    k3sFacts: () => facts,
    connector: async () => reachable(),
    systemdRunning: false,
    ipPath: '/bin/true',
    conntrackRunner: null,
    conntrackPath: 'conntrack',
  };
}

/** The interface of the main table's metric-0 default route (the one linkward sets). */
export const mainDefault = (ip: FakeIp): string | undefined => ip.routes.find((r) => r.table === 'main' && r.dst === 'default' && r.metric === 0)?.dev;

/** Sample times must strictly increase (two feeds in the same millisecond would count as one sample). */
let seq = 0;
/** `n` link snapshots with `health`, stamped by the context's clock, each evaluated at once. */
export async function feedRoute(
  ctx: AgentContext,
  comp: { evaluateNow(): Promise<void> },
  health: Record<string, 'healthy' | 'down' | 'degraded'>,
  n: number,
): Promise<void> {
  for (let i = 0; i < n; i++) {
    ctx.bus.emit('link', snapshot(health, ctx.clock.nowMs() + ++seq));
    await comp.evaluateNow();
  }
}

/** A snapshot where each uplink has a fresh sample now. */
export function snapshot(health: Record<string, LinkHealth>, atMs = Date.now()): LinkSnapshot {
  const uplinks: LinkSnapshot['uplinks'] = {};
  for (const [name, h] of Object.entries(health))
    uplinks[name] = {
      name,
      health: h,
      sinceMs: atMs - 60_000,
      reasons: h === 'healthy' ? [] : ['loss=100%'],
      latest: { atMs, rttMs: 20, lossPercent: h === 'healthy' ? 0 : 100 },
    };
  return { atMs, node: 'unknown', active: null, uplinks };
}

/** A fake `conntrack` runner: records argv as `conntrack ...` lines and answers like conntrack 1.4.7 (exit 1 when nothing matched). */
export class FakeConntrack implements CommandRunner {
  log: string[] = [];
  /** Options of each call (timeout, accepted exit codes). */
  opts: (RunOptions | undefined)[] = [];
  /** Entries deleted per command line; absent: none matched. */
  deletes = new Map<string, number>();
  /** When set, every call fails like this instead. */
  failWith: Error | { code: number; stderr: string } | null = null;

  async run(cmd: string, args: readonly string[], opts?: RunOptions): Promise<RunResult> {
    const line = `${cmd} ${args.join(' ')}`;
    this.log.push(line);
    this.opts.push(opts);
    if (this.failWith instanceof Error) throw this.failWith;
    if (this.failWith) return { code: this.failWith.code, stdout: '', stderr: this.failWith.stderr };
    const n = this.deletes.get(line) ?? 0;
    return { code: n > 0 ? 0 : 1, stdout: '', stderr: `conntrack v1.4.7 (conntrack-tools): ${n} flow entries have been deleted.\n` };
  }
}

/**
 * Leaves the state a dead agent leaves mid-switch wan → lte: the kernel already on wwan0 (proto 77), an armed revert
 * plan (its helper runs /bin/true, never the host's ip) and the pending switch in the store. Returns the store.
 */
export function seedDeadAgentSwitch(ctx: TestContext, ip: FakeIp): RouteStore {
  ip.routes.push({ table: 'main', dst: 'default', gateway: '10.0.2.1', dev: 'wwan0', metric: 0, protocol: '77' });
  const planFile = join(ctx.stateDir, 'route-revert-1.json');
  writeFileSync(
    planFile,
    JSON.stringify({
      deadlineMs: Date.now() + 60_000,
      cmd: '/bin/true',
      commands: [['route', 'replace', 'default', 'via', '10.0.1.1', 'dev', 'eth0', 'metric', '0', 'proto', '77']],
    }),
  );
  const store = createRouteStore(ctx.stateDb);
  store.savePolicy({ active: 'lte', tracks: {}, holdDownUntil: {}, switchLog: [], lastSwitchMs: null, override: null, awake: {} });
  store.savePending({ from: 'wan', to: 'lte', reason: 'failover', planFile, startedMs: Date.now() });
  return store;
}
