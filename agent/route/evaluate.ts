/** One route evaluation: clock jumps folded into the held times, the policy stepped on the latest link snapshot, its switch carried out, IPv6 followed, the kernel reconciled when due. */
import type { Logger } from '../base/log.ts';
import { heldShiftMs, type WallStepWatch } from '../base/wall-step.ts';
import type { LinkSnapshot } from '../core/types.ts';
import type { ApplyGate } from './apply-gate.ts';
import type { Ipv6Follower } from './follow6.ts';
import type { KernelSync } from './kernel-sync.ts';
import { step, type PolicyConfig, type PolicyUplink } from './policy.ts';
import { shiftedPolicy } from './policy-restore.ts';
import { switchStep, type SwitchStepDeps } from './switch-step.ts';

const emptySnapshot = (nowMs: number): LinkSnapshot => ({ atMs: nowMs, node: 'unknown', active: null, uplinks: {} });

/** What an evaluation needs from the route component besides what a switch needs (switch-step.ts). */
export interface EvaluationDeps extends SwitchStepDeps {
  follower: Pick<Ipv6Follower, 'switched' | 'shift' | 'follow'>;
  log: Logger;
  steps: Pick<WallStepWatch, 'take'>;
  gate: ApplyGate;
  kernel: Pick<KernelSync, 'trouble'>;
  puplinks: readonly PolicyUplink[];
  policyCfg: PolicyConfig;
  latestLink(): LinkSnapshot | null;
  /** The last decision's text, set as soon as it is known (the status and details are read meanwhile). */
  why(): string;
  setWhy(why: string): void;
  /** linkUp of the running evaluation, for the IPv6 follow-up's targets. */
  setLinkUp(linkUp: Record<string, boolean>): void;
  applyDesired(linkUp: Record<string, boolean>): Promise<void>;
  save(): void;
}

/** One evaluation; the component runs them one at a time (a coalescer). */
export async function evaluateOnce(d: EvaluationDeps): Promise<void> {
  const { log, follower, gate } = d;
  const { stepMs, suspendMs } = d.steps.take();
  const shiftMs = heldShiftMs({ stepMs, suspendMs }); // a hold counts awake time, never the sleep
  if (shiftMs !== 0) {
    d.setState(shiftedPolicy(d.state(), shiftMs));
    follower.shift(shiftMs);
    const what = stepMs !== 0 ? 'wall clock stepped' : 'system was suspended';
    log.warn({ stepMs, suspendMs }, `${what}; failback holds, hold-downs and switch caps keep their lengths`);
  }
  const now = d.nowMs();
  const snap = d.latestLink() ?? emptySnapshot(now);
  const r = step(d.state(), d.puplinks, snap, d.policyCfg, now);
  d.setState(r.state);
  if (r.action.kind === 'switch') {
    d.setWhy(r.action.why);
    log.info({ from: r.action.from, to: r.action.to, reason: r.action.reason }, r.action.why);
    d.setWhy((await switchStep(d, r.action.to, r.action.reason, r.linkUp)) ?? d.why());
  } else d.setWhy(r.action.why);
  d.setLinkUp(r.linkUp);
  const why6 = d.routesAllowed() ? await follower.follow(d.state().active, now) : null;
  if (why6) d.setWhy(`${d.why()}; ${why6}`);
  if (gate.due(d.state().active, r.linkUp, snap, r.action.kind === 'switch', d.kernel.trouble(), now)) {
    await d.applyDesired(r.linkUp);
    gate.applied(d.state().active, r.linkUp, snap);
  }
  d.save();
}
