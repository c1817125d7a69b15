/** Pure: the bounded retry queue of transition Events whose POST failed (oldest first, size cap, 1 h TTL, shared backoff). */
import type { EventInput } from './api.ts';
import { backoffDelayMs } from './backoff.ts';
import { K8sErrorCode } from './errors.ts';

/**
 * At most this many Events (count) wait for a retry. There is one Event per link-state transition and flap damping
 * limits transitions, so 50 covers hours of a failing API; each is well under 1 KB. When full, the oldest goes first:
 * it matters least, since the Node condition always shows the current state.
 */
export const EVENT_QUEUE_MAX = 50;

/**
 * An Event older than this (ms, from its transition) is dropped, not sent: kube-apiserver keeps Events for
 * --event-ttl, 1 h by default, so an Event posted on time would be gone by now anyway.
 */
export const EVENT_TTL_MS = 60 * 60 * 1000;

/** Why a queued Event was given up (the `reason` label of linkward_k8s_events_dropped_total). */
export const EVENT_DROP_REASONS = ['overflow', 'expired', 'rejected'] as const;
export type EventDropReason = (typeof EVENT_DROP_REASONS)[number];

export interface EventQueue {
  /** Oldest first; each keeps its transition time (`nowMs`) and its name (fixed when queued). */
  readonly pending: readonly EventInput[];
  /** Consecutive failed sends: the backoff exponent. */
  readonly failures: number;
  /** No send before this wall-clock time (ms). */
  readonly nextAttemptMs: number;
}

/** What one send attempt of the head Event came to. */
export type SendOutcome = 'sent' | 'retry' | 'rejected';

export const EMPTY_EVENT_QUEUE: EventQueue = { pending: [], failures: 0, nextAttemptMs: 0 };

export interface QueueStep {
  queue: EventQueue;
  /** Events dropped by this step (for the metric and the log). */
  dropped: number;
}

/** Appends `ev`; when more than `max` wait, the oldest are dropped (reason `overflow`). */
export function enqueueEvent(q: EventQueue, ev: EventInput, max = EVENT_QUEUE_MAX): QueueStep {
  const all = [...q.pending, ev];
  const dropped = Math.max(0, all.length - Math.max(1, max));
  return { queue: { ...q, pending: all.slice(dropped) }, dropped };
}

/** Drops Events whose transition is `ttlMs` or more before `nowMs` (reason `expired`); an empty queue forgets its backoff. */
export function expireEvents(q: EventQueue, nowMs: number, ttlMs = EVENT_TTL_MS): QueueStep {
  // |age|: an Event stamped before the wall clock stepped back by more than the TTL is as stale as an old one.
  const pending = q.pending.filter((e) => Math.abs(nowMs - e.nowMs) < ttlMs);
  const dropped = q.pending.length - pending.length;
  if (dropped === 0) return { queue: q, dropped: 0 };
  return { queue: pending.length ? { ...q, pending } : EMPTY_EVENT_QUEUE, dropped };
}

/** Failures that time or an operator fixes: the API down or slow, throttling, RBAC being corrected. */
const RETRYABLE: ReadonlySet<string> = new Set([K8sErrorCode.UNAVAILABLE, K8sErrorCode.TIMEOUT, K8sErrorCode.TOO_MANY_REQUESTS, K8sErrorCode.FORBIDDEN]);

/**
 * Maps a failed POST's error code to what to do with the Event. 409 means an earlier attempt did create it (its
 * answer was lost): it counts as sent, never posted twice. Only the transient codes above are retried; anything else
 * (404, other 4xx, an internal error) would fail the same way again and block every newer Event behind it.
 */
export function outcomeOfError(code: string): SendOutcome {
  if (code === K8sErrorCode.CONFLICT) return 'sent';
  return RETRYABLE.has(code) ? 'retry' : 'rejected';
}

/**
 * Whether the head Event may be sent at `nowMs`: something waits and the backoff has elapsed. A wait longer than
 * `maxWaitMs` can only come from the wall clock stepping back (edge boxes without an RTC): then it is due now.
 */
export function eventDue(q: EventQueue, nowMs: number, maxWaitMs: number): boolean {
  return q.pending.length > 0 && (nowMs >= q.nextAttemptMs || q.nextAttemptMs - nowMs > maxWaitMs);
}

/**
 * Applies the outcome of sending the head Event at `nowMs`. Sent or rejected: it leaves the queue and the backoff
 * resets (the API answered). Retry: it stays first (order is kept) and the next attempt waits
 * backoffDelayMs(failures, maxBackoffMs, rand), the backoff the reconcile loop uses.
 */
export function settleHead(q: EventQueue, outcome: SendOutcome, nowMs: number, maxBackoffMs: number, rand: number): EventQueue {
  if (q.pending.length === 0) return q;
  if (outcome !== 'retry') return { pending: q.pending.slice(1), failures: 0, nextAttemptMs: 0 };
  const failures = q.failures + 1;
  return { ...q, failures, nextAttemptMs: nowMs + backoffDelayMs(failures, maxBackoffMs, rand) };
}
