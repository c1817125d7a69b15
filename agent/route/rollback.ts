/** Undoing a switch: the rollback to the previous target, and at start a switch that a dead agent left pending. */
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { codeOf, messageOf } from '../base/errors.ts';
import { flushPlan, uplinkSource } from './conntrack.ts';
import type { KernelState } from './ip-state.ts';
import { RouteErrorCode } from './errors.ts';
import { reconcile, type RouteTarget } from './reconcile.ts';
import { claimRevert, planStatus, revertedClaimed, type RevertPlan } from './revert-helper.ts';
import { HELPER_COMMAND_TIMEOUT_MS } from './revert-helper-program.ts';
import type { PendingSwitch } from './store.ts';
import type { SwitchDeps, SwitchOutcome } from './switcher.ts';

/** When the helper fired first, the agent waits for it at least this many polls of HELPER_DONE_POLL_MS ... */
const HELPER_DONE_POLLS = 50;
const HELPER_DONE_POLL_MS = 100;
/** ... and at most as long as the helper may take: each of its commands gets HELPER_COMMAND_TIMEOUT_MS, plus this. */
const HELPER_DONE_MARGIN_MS = 1_000;

/** Removes finished plan files (an armed or claimed one is kept: a restart still has to settle it). */
export function tidy(stateDir: string): void {
  try {
    for (const f of readdirSync(stateDir))
      if (f.startsWith('route-revert-') && /\.(confirmed|result|failed|reverting|tmp)$/.test(f)) rmSync(join(stateDir, f), { force: true });
  } catch {
    /* nothing to tidy */
  }
}

/** Deletes the conntrack entries of the uplink the outcome left (see conntrack.ts); never throws. */
export async function flushAbandoned(
  deps: SwitchDeps,
  result: SwitchOutcome['result'],
  from: string | null,
  to: string,
  target: RouteTarget,
  kernel: KernelState | null,
): Promise<void> {
  if (!deps.conntrack) return;
  try {
    const plan = flushPlan(result, from, to, (n) => uplinkSource(n, target.uplinks, kernel, deps.knownSources()));
    if (plan) await deps.conntrack.flush(plan.uplink, plan.src, deps.clock.nowMs());
    else deps.log.debug({ from, to, result }, 'no conntrack flush: no abandoned uplink address');
  } catch (e) {
    deps.log.warn({ code: codeOf(e), err: messageOf(e) }, 'conntrack flush skipped');
  }
}

/**
 * Reverts: run the claimed plan (or let the helper finish its revert), then reconcile the previous target fully. The
 * revert commands have already put the default route back, so a kernel read that is unknown at that point only delays
 * the full reconcile to the next pass (drift repair): it must not escape and leave the switch pending without history.
 */
export async function rollBack(deps: SwitchDeps, planFile: string, plan: RevertPlan | null, previous: RouteTarget): Promise<void> {
  if (plan) {
    const r = await deps.actuator.apply(plan.commands);
    revertedClaimed(
      planFile,
      r.errors.map((e) => `${e.cmd}: ${e.message}`),
    );
  } else await waitHelperDone(deps, planFile);
  try {
    await reconcile(deps.actuator, previous);
  } catch (e) {
    if (codeOf(e) !== RouteErrorCode.STATE_UNKNOWN) throw e;
  }
}

/**
 * The helper fired first: wait until it finished, so our reconcile (and the tidy after it) does not race with its `ip`
 * commands. It may take HELPER_COMMAND_TIMEOUT_MS per command of its plan (read from the file it renamed).
 */
async function waitHelperDone(deps: SwitchDeps, planFile: string): Promise<void> {
  let commands = 0;
  try {
    commands = (JSON.parse(readFileSync(planFile + '.reverting', 'utf8')) as RevertPlan).commands.length;
  } catch {
    /* finished meanwhile, or unreadable: the minimum wait */
  }
  const polls = Math.max(HELPER_DONE_POLLS, Math.ceil((commands * HELPER_COMMAND_TIMEOUT_MS + HELPER_DONE_MARGIN_MS) / HELPER_DONE_POLL_MS));
  for (let i = 0; i < polls && planStatus(planFile) === 'reverting'; i++) await deps.clock.sleep(HELPER_DONE_POLL_MS);
}

/** Takes a plan the dead agent had claimed but not finished (`.agent`), unless the helper took it. */
function reclaim(planFile: string): RevertPlan | null {
  try {
    return JSON.parse(readFileSync(planFile + '.agent', 'utf8')) as RevertPlan;
  } catch {
    return null;
  }
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
  await rollBack(deps, p.planFile, status === 'claimed' ? reclaim(p.planFile) : claimRevert(p.planFile), prev);
  await flushAbandoned(deps, 'rolled-back', p.from, p.to, prev, await deps.actuator.read().catch(() => null));
  deps.store.savePending(null);
  deps.store.record({
    atMs: deps.clock.nowMs(),
    from: p.from,
    to: p.to,
    reason: p.reason,
    result: 'rolled-back',
    detail: `agent died before confirm; revert ${status === 'armed' || status === 'claimed' ? 'done at restart' : 'done by the helper'}`,
  });
  tidy(deps.stateDir);
  return p;
}
