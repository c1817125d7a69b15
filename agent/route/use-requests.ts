/** Outcomes of `linkward route use` requests, kept by id so the CLI can poll for the final decision (GET /v1/route `requests`). */
import type { RollbackCause } from './switcher.ts';

/** Requests remembered (the CLI polls for its own within a minute; older ones only make the document longer). */
export const REQUESTS_KEPT = 20;

/** Outcome of one `route use` request. */
export interface UseRequest {
  id: string;
  uplink: string;
  atMs: number;
  /** `pending` until decided; then `confirmed`, `already` (was active), `applied` (dry-run / routes unmanaged), `rolled-back` or `refused`. */
  state: 'pending' | 'confirmed' | 'already' | 'applied' | 'rolled-back' | 'refused';
  detail: string;
  cause?: RollbackCause;
}

export interface UseRequests {
  /** Records a new pending request (replacing one with the same id). */
  open(id: string, uplink: string, atMs: number): UseRequest;
  /** Makes `req` the one the running evaluation settles (null: none). */
  focus(req: UseRequest | null): void;
  /** Settles the focused request if it is about `to` and still pending. */
  settle(to: string, state: UseRequest['state'], detail: string, cause?: RollbackCause): void;
  /** After the evaluation: a request nothing settled is `already` (uplink active) or `refused` (with the policy's reason). */
  close(req: UseRequest, active: string | null, why: string): void;
  list(): readonly UseRequest[];
}

export function createUseRequests(): UseRequests {
  let requests: UseRequest[] = [];
  let focused: UseRequest | null = null;
  return {
    open(id, uplink, atMs) {
      const req: UseRequest = { id, uplink, atMs, state: 'pending', detail: 'waiting for the evaluation' };
      requests = [...requests.filter((r) => r.id !== id), req].slice(-REQUESTS_KEPT);
      return req;
    },
    focus(req) {
      focused = req;
    },
    settle(to, state, detail, cause) {
      if (!focused || focused.uplink !== to || focused.state !== 'pending') return;
      Object.assign(focused, { state, detail, ...(cause ? { cause } : {}) });
    },
    close(req, active, why) {
      if (req.state !== 'pending') return;
      if (active === req.uplink) Object.assign(req, { state: 'already', detail: `${req.uplink} is the active uplink` });
      else Object.assign(req, { state: 'refused', detail: why });
    },
    list: () => requests,
  };
}
