/** Commit-confirm switch: arm the external revert helper, apply, confirm through the new default, then disarm or roll back. */
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Clock } from '../clock.ts';
import { codeOf, messageOf } from '../errors.ts';
import type { Logger } from '../log.ts';
import type { RouteActuator } from './actuator.ts';
import type { ConfirmResult } from './confirm.ts';
import { flushPlan, uplinkSource, type ConntrackFlusher } from './conntrack.ts';
import { mainDefaults, routeArgs, type KernelState } from './ip-state.ts';
import type { IpArgv, PlanOptions } from './plan.ts';
import { reconcile, type RouteTarget } from './reconcile.ts';
import { armRevert, claimRevert, disarmRevert, planStatus, type Launcher } from './revert-helper.ts';
import type { PendingSwitch, RouteStore } from './store.ts';

export interface SwitchDeps {
  actuator: RouteActuator;
  clock: Clock;
  log: Logger;
  store: RouteStore;
  stateDir: string;
  launcher: Launcher;
  ipPath: string;
  dryRun: boolean;
  /** Probes through the (new) default route. */
  confirm: () => Promise<ConfirmResult>;
  /** Flushes the abandoned uplink's conntrack entries after a switch; null when `flushConntrack` is off. */
  conntrack: ConntrackFlusher | null;
  /** Last source address seen per uplink (its interface may be gone by the time we flush). */
  knownSources: () => Readonly<Record<string, string>>;
}

export interface SwitchOutcome {
  ok: boolean;
  /** `confirmed`, `applied` (dry-run / nothing to confirm), `rolled-back`. */
  result: 'confirmed' | 'applied' | 'rolled-back';
  detail: string;
  confirmMs: number;
  /**
   * Flushes the abandoned uplink's conntrack entries (never throws). The caller runs it after it has committed and
   * announced the outcome: a slow flush must not hold back the new state or the next evaluation.
   */
  flushConntrack: () => Promise<void>;
}

/** Commands that put the main default back as it was in `before` (a replace; a delete only if another default remains). */
export function revertCommands(before: KernelState, target: RouteTarget, opts: PlanOptions): IpArgv[] {
  const prev = mainDefaults(before).find((r) => r.metric === opts.mainMetric);
  if (prev) return [['route', 'replace', ...routeArgs(prev), ...(prev.metric === 0 ? ['metric', '0'] : [])]];
  const others = mainDefaults(before).length;
  const to = target.uplinks.find((u) => u.name === target.active);
  if (others === 0 || !to?.interface) return [];
  return [['route', 'del', 'default', 'dev', to.interface, 'metric', String(opts.mainMetric)]];
}

/** Removes finished plan files (keeps an armed one). */
function tidy(stateDir: string, keep?: string): void {
  try {
    for (const f of readdirSync(stateDir)) if (f.startsWith('route-revert-') && (!keep || !f.startsWith(keep.split('/').pop()!))) rmSync(join(stateDir, f), { force: true });
  } catch { /* nothing to tidy */ }
}

/** Performs one switch to `target.active`, rolling back to `previous` unless confirmed in `confirmTimeoutMs`. */
export async function commitSwitch(deps: SwitchDeps, target: RouteTarget, previous: RouteTarget, info: Omit<PendingSwitch, 'planFile' | 'startedMs'>, timing: { confirmTimeoutMs: number; revertGraceMs: number }): Promise<SwitchOutcome> {
  const { actuator, clock, log, store } = deps;
  if (deps.dryRun) {
    const r = await reconcile(actuator, target);
    const flushConntrack = () => flushAbandoned(deps, 'applied', info.from, info.to, target, r.kernel);
    return { ok: true, result: 'applied', detail: `dry-run: ${r.result.applied.join('; ') || 'nothing to change'}`, confirmMs: 0, flushConntrack };
  }
  const before = await actuator.read();
  const startedMs = clock.nowMs();
  const planFile = join(deps.stateDir, `route-revert-${startedMs}.json`);
  const revert = revertCommands(before, target, target.opts);
  armRevert(planFile, { deadlineMs: startedMs + timing.confirmTimeoutMs + timing.revertGraceMs, cmd: deps.ipPath, commands: revert.map((c) => [...c]) }, deps.launcher);
  store.savePending({ ...info, planFile, startedMs });
  log.info({ from: info.from, to: info.to, reason: info.reason, revert: revert.map((c) => c.join(' ')) }, 'switching default route (revert armed)');

  const t0 = clock.monoMs();
  let outcome: Omit<SwitchOutcome, 'flushConntrack'>;
  try {
    const applied = await reconcile(actuator, target);
    const mainFailed = applied.result.errors.find((e) => / default /.test(e.cmd) && !/ table /.test(e.cmd));
    if (mainFailed) throw new Error(`could not set the default route: ${mainFailed.message}`);
    const c = await deps.confirm();
    if (c.ok && disarmRevert(planFile)) outcome = { ok: true, result: 'confirmed', detail: `reached ${c.detail}`, confirmMs: clock.monoMs() - t0 };
    else outcome = { ok: false, result: 'rolled-back', detail: c.ok ? 'confirmed too late: the revert helper had already fired' : c.detail, confirmMs: clock.monoMs() - t0 };
  } catch (e) {
    outcome = { ok: false, result: 'rolled-back', detail: messageOf(e), confirmMs: clock.monoMs() - t0 };
  }
  if (!outcome.ok) await rollBack(deps, planFile, previous);
  store.savePending(null);
  store.record({ atMs: clock.nowMs(), from: info.from, to: info.to, reason: info.reason, result: outcome.result, detail: outcome.detail });
  tidy(deps.stateDir);
  log[outcome.ok ? 'info' : 'warn']({ from: info.from, to: info.to, result: outcome.result, detail: outcome.detail, confirmMs: Math.round(outcome.confirmMs) }, outcome.ok ? 'switch confirmed' : 'switch rolled back');
  // Only after the default route has settled (committed or rolled back), so no entry is re-created on the old path.
  const result = outcome.result;
  return { ...outcome, flushConntrack: () => flushAbandoned(deps, result, info.from, info.to, target, before) };
}

/** Deletes the conntrack entries of the uplink the outcome left (see conntrack.ts); never throws. */
async function flushAbandoned(deps: SwitchDeps, result: SwitchOutcome['result'], from: string | null, to: string, target: RouteTarget, kernel: KernelState | null): Promise<void> {
  if (!deps.conntrack) return;
  try {
    const plan = flushPlan(result, from, to, (n) => uplinkSource(n, target.uplinks, kernel, deps.knownSources()));
    if (plan) await deps.conntrack.flush(plan.uplink, plan.src, deps.clock.nowMs());
    else deps.log.debug({ from, to, result }, 'no conntrack flush: no abandoned uplink address');
  } catch (e) {
    deps.log.warn({ code: codeOf(e), err: messageOf(e) }, 'conntrack flush skipped');
  }
}

/** Reverts: take the plan back from the helper if it has not fired, run it, then reconcile the previous target fully. */
async function rollBack(deps: SwitchDeps, planFile: string, previous: RouteTarget): Promise<void> {
  const plan = claimRevert(planFile);
  if (plan) await deps.actuator.apply(plan.commands);
  else await waitHelperDone(deps, planFile);
  await reconcile(deps.actuator, previous);
}

/** The helper fired first: give it a moment to finish so our reconcile does not race with it. */
async function waitHelperDone(deps: SwitchDeps, planFile: string): Promise<void> {
  for (let i = 0; i < 50 && planStatus(planFile) === 'reverting'; i++) await deps.clock.sleep(100);
}

/** At start: a switch left pending by a dead agent is reverted (by us if the helper has not yet). Returns it, or null. */
export async function recoverPending(deps: SwitchDeps, previous: (p: PendingSwitch) => RouteTarget): Promise<PendingSwitch | null> {
  const p = deps.store.loadPending();
  if (!p) return null;
  const status = planStatus(p.planFile);
  deps.log.warn({ pending: p, status }, 'found a switch that was never confirmed (agent died mid-switch); reverting');
  if (status === 'confirmed') {
    deps.store.savePending(null);
    return null;
  }
  const prev = previous(p);
  await rollBack(deps, p.planFile, prev);
  await flushAbandoned(deps, 'rolled-back', p.from, p.to, prev, await deps.actuator.read().catch(() => null));
  deps.store.savePending(null);
  deps.store.record({ atMs: deps.clock.nowMs(), from: p.from, to: p.to, reason: p.reason, result: 'rolled-back', detail: `agent died before confirm; revert ${status === 'armed' ? 'done at restart' : 'done by the helper'}` });
  tidy(deps.stateDir);
  return p;
}
