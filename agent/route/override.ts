/** The operator's override: `linkward route use` (set, carried out by an evaluation, its request settled) and `route auto`. */
import type { Coalescer } from '../base/coalesce.ts';
import { withOverride, type PolicyState } from './policy.ts';
import type { UseRequests } from './use-requests.ts';

/** What an override needs from the route component. */
export interface OverrideDeps {
  requests: UseRequests;
  state(): PolicyState;
  setState(s: PolicyState): void;
  /** The last decision's text (why a request nothing settled was refused). */
  why(): string;
  save(): void;
  nowMs(): number;
}

/** `route use`: `forMs` null = until `route auto`; `requestId` names the request for polling. Resolves once it is decided. */
export async function useUplink(
  d: OverrideDeps,
  evaluations: Pick<Coalescer, 'run' | 'idle'>,
  uplink: string,
  forMs: number | null,
  requestId?: string,
): Promise<void> {
  const { requests } = d;
  const req = requests.open(requestId ?? `r${d.nowMs()}`, uplink, d.nowMs());
  d.setState(withOverride(d.state(), uplink, forMs === null ? null : d.nowMs() + forMs));
  d.save();
  // Wait for an evaluation that started after the override was set (a running one may predate it).
  await evaluations.idle();
  requests.focus(req);
  try {
    await evaluations.run();
  } finally {
    requests.focus(null);
  }
  requests.close(req, d.state().active, d.why());
}

/** `route auto`: the override ends, and an evaluation follows. */
export async function autoUplink(d: OverrideDeps, evaluations: Pick<Coalescer, 'run'>): Promise<void> {
  d.setState(withOverride(d.state(), null, null));
  d.save();
  await evaluations.run();
}
