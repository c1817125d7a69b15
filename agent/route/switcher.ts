/** Commit-confirm switch: arm the external revert helper, apply, confirm through the new default, then disarm or roll back. */
import { join } from 'node:path';
import type { Clock } from '../base/clock.ts';
import { LwError, messageOf } from '../base/errors.ts';
import type { Logger } from '../base/log.ts';
import type { RouteActuator } from './actuator.ts';
import type { ConfirmResult } from './confirm.ts';
import type { ConntrackFlusher } from './conntrack.ts';
import { familyArgs, mainDefaults, routeArgs, type Family, type KernelState } from './ip-state.ts';
import { isMainDefault, mainMetricOf, type IpArgv, type PlanOptions, type ResolvedUplink } from './plan.ts';
import { RouteErrorCode } from './errors.ts';
import { reconcile, type RouteTarget } from './reconcile.ts';
import { claimRevert, confirmClaimed, type RevertHelper } from './revert-helper.ts';
import { flushAbandoned, rollBack, tidy } from './rollback.ts';
import type { PendingSwitch, RouteStore } from './store.ts';

export interface SwitchDeps {
  actuator: RouteActuator;
  clock: Clock;
  log: Logger;
  store: RouteStore;
  stateDir: string;
  /** The pre-started revert helper (armed per switch). */
  helper: RevertHelper;
  /** CLOCK_MONOTONIC ms shared with the helper process (sharedMonoMs; tests inject their own). */
  sharedMono: () => number;
  ipPath: string;
  dryRun: boolean;
  /** Reaches the confirm targets through the new default within `withinMs`, one per family the switch moved to it. */
  confirm: (withinMs: number, families: readonly Family[]) => Promise<ConfirmResult>;
  /** Flushes the abandoned uplink's conntrack entries after a switch; null when `flushConntrack` is off. */
  conntrack: ConntrackFlusher | null;
  /** Last source address seen per uplink (its interface may be gone by the time we flush). */
  knownSources: () => Readonly<Record<string, string>>;
}

/**
 * Why a switch was rolled back: the target did not answer (`unreachable`), nothing answered by the deadline
 * (`timeout`), an answer came but was judged after the deadline (`late`: the agent was starved, the uplink may be fine),
 * the helper reverted before the agent decided (`helper-fired`), or the route could not be set (`apply-failed`).
 */
export type RollbackCause = 'unreachable' | 'timeout' | 'late' | 'helper-fired' | 'apply-failed';

export interface SwitchOutcome {
  ok: boolean;
  /** `confirmed`, `applied` (dry-run / nothing to confirm), `rolled-back`. */
  result: 'confirmed' | 'applied' | 'rolled-back';
  detail: string;
  confirmMs: number;
  /** Time to arm the revert helper (write the plan, helper acknowledged). */
  armMs: number;
  /** Why a switch was rolled back (absent when it was not). */
  cause?: RollbackCause;
  /** Families whose main default the switch moved to the new uplink (and confirmed, when it was confirmed). */
  families: Family[];
  /**
   * Flushes the abandoned uplink's conntrack entries (never throws). The caller runs it after it has committed and
   * announced the outcome: a slow flush must not hold back the new state or the next evaluation.
   */
  flushConntrack: () => Promise<void>;
}

/** IPv6 moves too when the new uplink is dual-stack, resolved, and not held back (its IPv6 default then points at it). */
function movedFamilies(resolved: readonly ResolvedUplink[], target: RouteTarget): Family[] {
  return !target.hold6 && resolved.find((u) => u.name === target.active)?.v6 ? [4, 6] : [4];
}

/** Commands that put the main default back as it was in `before` (a replace; a delete only if another default remains). */
export function revertCommands(before: KernelState, target: RouteTarget, opts: PlanOptions): IpArgv[] {
  const out: IpArgv[] = [];
  const to = target.uplinks.find((u) => u.name === target.active);
  // every family linkward switches (IPv6 only for dual-stack uplinks): a kill -9 mid-confirm must revert both
  for (const f of before.families ?? [4]) {
    const fa = familyArgs(f);
    const metric = mainMetricOf(f, opts.mainMetric);
    const defaults = mainDefaults(before, f);
    const prev = defaults.find((r) => r.metric === metric);
    if (prev) {
      out.push([...fa, 'route', 'replace', ...routeArgs(prev), ...(prev.metric === 0 ? ['metric', '0'] : [])]);
      continue;
    }
    // no IPv6 default before: deleting ours is the state before (an IPv4 main default is never deleted when none was)
    if ((f === 4 && defaults.length === 0) || !to?.interface || (f === 6 && !to.gateway6)) continue;
    out.push([...fa, 'route', 'del', 'default', 'dev', to.interface, 'metric', String(metric)]);
  }
  return out;
}

/**
 * The deadline timer fires this long after the deadline, so a confirm that ran out its own time (bounded by the same
 * deadline) reports which target failed; the verdict is judged on the clock either way (after the deadline = failure).
 */
const CONFIRM_SETTLE_MS = 100;

/** Resolves false after `ms` (the deadline timer; it may fire late under load, so the deadline is re-checked on the clock). */
const deadlineTimer = (clock: Clock, ms: number): Promise<false> => new Promise((resolve) => clock.setTimer(Math.max(0, ms), () => resolve(false)));

/**
 * Performs one switch to `target.active`, rolling back to `previous` unless confirmed by the deadline.
 * One deadline for both sides: the agent's is `confirmTimeoutMs` after arming on the monotonic clock; the helper's is
 * the same instant on CLOCK_MONOTONIC plus `revertGraceMs`. The agent claims the plan (an atomic rename) before it
 * judges the confirm, and a confirm judged after the deadline is a failure, so the two never act against each other.
 */
export async function commitSwitch(
  deps: SwitchDeps,
  target: RouteTarget,
  previous: RouteTarget,
  info: Omit<PendingSwitch, 'planFile' | 'startedMs'>,
  timing: { confirmTimeoutMs: number; revertGraceMs: number },
): Promise<SwitchOutcome> {
  const { actuator, clock, log, store } = deps;
  if (deps.dryRun) {
    const r = await reconcile(actuator, target);
    const flushConntrack = () => flushAbandoned(deps, 'applied', info.from, info.to, target, r.kernel);
    const families = movedFamilies(r.resolved, target);
    return {
      ok: true,
      result: 'applied',
      detail: `dry-run: ${r.result.applied.join('; ') || 'nothing to change'}`,
      confirmMs: 0,
      armMs: 0,
      families,
      flushConntrack,
    };
  }
  const before = await actuator.read();
  const startedMs = clock.nowMs();
  const planFile = join(deps.stateDir, `route-revert-${startedMs}.json`);
  const revert = revertCommands(before, target, target.opts);
  const t0 = clock.monoMs();
  const deadline = t0 + timing.confirmTimeoutMs;
  const shared = deps.sharedMono();
  await deps.helper.arm(planFile, {
    deadlineMono: shared + timing.confirmTimeoutMs,
    revertAtMono: shared + timing.confirmTimeoutMs + timing.revertGraceMs,
    deadlineMs: startedMs + timing.confirmTimeoutMs,
    cmd: deps.ipPath,
    commands: revert.map((c) => [...c]),
  });
  const armMs = clock.monoMs() - t0;
  store.savePending({ ...info, planFile, startedMs });
  log.info(
    { from: info.from, to: info.to, reason: info.reason, armMs: Math.round(armMs * 10) / 10, revert: revert.map((c) => c.join(' ')) },
    'switching default route (revert armed)',
  );

  let confirm: ConfirmResult | false | null = null;
  let moved: Family[] = [4];
  let applyError: string | null = null;
  try {
    const applied = await reconcile(actuator, target);
    const mainFailed = applied.result.errors.find((e) => isMainDefault(e.argv));
    if (mainFailed)
      throw new LwError(RouteErrorCode.APPLY_FAILED, `could not set the default route: ${mainFailed.message}`, {
        context: { cmd: mainFailed.cmd, code: mainFailed.code },
      });
    moved = movedFamilies(applied.resolved, target);
    confirm = await Promise.race([deps.confirm(deadline - clock.monoMs(), moved), deadlineTimer(clock, deadline + CONFIRM_SETTLE_MS - clock.monoMs())]);
  } catch (e) {
    applyError = messageOf(e);
  }
  // From here the helper stays out (or has already acted); the verdict is judged after the claim, on the clock.
  const plan = claimRevert(planFile);
  const decidedMs = clock.monoMs() - t0;
  const late = decidedMs > timing.confirmTimeoutMs;
  let outcome: Omit<SwitchOutcome, 'flushConntrack' | 'armMs' | 'families'>;
  /** The confirm answered and a target was reached (null: never asked; false: the deadline timer won the race). */
  const reached = confirm !== null && confirm !== false && confirm.ok;
  if (plan && confirm && reached && !late && applyError === null) {
    confirmClaimed(planFile);
    deps.helper.disarm(planFile);
    outcome = { ok: true, result: 'confirmed', detail: `reached ${confirm.detail}`, confirmMs: decidedMs };
  } else {
    deps.helper.disarm(planFile);
    const failure: RollbackCause = !plan ? 'helper-fired' : applyError !== null ? 'apply-failed' : reached ? 'late' : confirm ? 'unreachable' : 'timeout';
    const why = {
      'helper-fired': `not decided before the revert helper fired (${Math.round(decidedMs)} ms after arming; deadline ${timing.confirmTimeoutMs} ms + grace ${timing.revertGraceMs} ms)`,
      'apply-failed': applyError ?? '',
      late: `confirmed too late: ${confirm && reached ? confirm.detail : ''} reached but the decision came ${Math.round(decidedMs)} ms after arming, past the ${timing.confirmTimeoutMs} ms deadline (agent starved of CPU?)`,
      timeout: `no confirm target reached by the ${timing.confirmTimeoutMs} ms deadline${confirm ? ` (${confirm.detail})` : ''}`,
      unreachable: confirm ? confirm.detail : '',
    }[failure];
    outcome = { ok: false, result: 'rolled-back', cause: failure, detail: why, confirmMs: decidedMs };
    await rollBack(deps, planFile, plan, previous);
  }
  store.savePending(null);
  store.record({ atMs: clock.nowMs(), from: info.from, to: info.to, reason: info.reason, result: outcome.result, detail: outcome.detail });
  tidy(deps.stateDir);
  const code = outcome.ok ? undefined : outcome.cause === 'apply-failed' ? RouteErrorCode.APPLY_FAILED : RouteErrorCode.CONFIRM_FAILED;
  log[outcome.ok ? 'info' : 'warn'](
    {
      ...(code ? { code } : {}),
      from: info.from,
      to: info.to,
      result: outcome.result,
      cause: outcome.cause,
      detail: outcome.detail,
      confirmMs: Math.round(outcome.confirmMs),
    },
    outcome.ok ? 'switch confirmed' : 'switch rolled back',
  );
  // Only after the default route has settled (committed or rolled back), so no entry is re-created on the old path.
  const result = outcome.result;
  return { ...outcome, armMs, families: moved, flushConntrack: () => flushAbandoned(deps, result, info.from, info.to, target, before) };
}
