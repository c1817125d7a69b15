/** Sends transition Events through the bounded retry queue: failed POSTs are retried on later reconcile passes. */
import { codeOf, messageOf } from '../base/errors.ts';
import type { Logger } from '../base/log.ts';
import type { EventInput, NodeApi } from './api.ts';
import { eventName } from './convert.ts';
import {
  EMPTY_EVENT_QUEUE,
  enqueueEvent,
  EVENT_QUEUE_MAX,
  EVENT_TTL_MS,
  eventDue,
  expireEvents,
  outcomeOfError,
  settleHead,
  type EventDropReason,
  type EventQueue,
  type QueueStep,
} from './event-queue.ts';

export interface EventOutboxDeps {
  log: Logger;
  /** Cap of the retry backoff (kubernetes.maxBackoffMs). */
  maxBackoffMs: number;
  /** Jitter and name suffix source in [0,1) (tests pin it). */
  random: () => number;
  /** Called once per Event the API accepted. */
  onSent?: () => void;
  onDropped?: (reason: EventDropReason, count: number) => void;
  /** Called after every change with how many Events wait. */
  onPending?: (count: number) => void;
}

/**
 * Owns the queue between passes. An Event is informative only: a failure never fails the reconcile; the Event waits
 * (at most EVENT_QUEUE_MAX of them, none older than EVENT_TTL_MS) and the next pass tries again once the backoff
 * has elapsed. Oldest first, so `kubectl describe node` lists them in order.
 */
export class EventOutbox {
  #q: EventQueue = EMPTY_EVENT_QUEUE;
  /** Makes names unique within this process even for Events of the same millisecond (a 409 on retry means "sent"). */
  #seq = 0;
  readonly #deps: EventOutboxDeps;

  constructor(deps: EventOutboxDeps) {
    this.#deps = deps;
  }

  get pending(): number {
    return this.#q.pending.length;
  }

  /** Queues an Event (its name is fixed now, so every attempt posts the same object). */
  add(ev: EventInput): void {
    const suffix = `-${(this.#seq++).toString(16)}-${Math.floor(this.#deps.random() * 0xfff).toString(16)}`;
    const named = ev.name ? ev : { ...ev, name: eventName(ev.node.name, ev.nowMs, suffix) };
    this.#step(enqueueEvent(this.#q, named, EVENT_QUEUE_MAX), 'overflow');
  }

  /** Sends what is due at `nowMs`, oldest first; stops at the first failure that is worth a retry. Never throws. */
  async flush(api: NodeApi, nowMs: number): Promise<void> {
    this.#step(expireEvents(this.#q, nowMs, EVENT_TTL_MS), 'expired');
    while (eventDue(this.#q, nowMs, this.#deps.maxBackoffMs)) {
      const ev = this.#q.pending[0];
      if (!ev) break;
      let outcome: 'sent' | 'retry' | 'rejected' = 'sent';
      let err: unknown;
      try {
        await api.createEvent(ev);
      } catch (e) {
        err = e;
        outcome = outcomeOfError(codeOf(e));
      }
      this.#q = settleHead(this.#q, outcome, nowMs, this.#deps.maxBackoffMs, this.#deps.random());
      if (outcome === 'sent') this.#deps.onSent?.();
      else if (outcome === 'rejected') {
        this.#deps.log.warn({ code: codeOf(err), err: messageOf(err), reason: ev.reason }, 'the API refused the transition Event; dropped');
        this.#deps.onDropped?.('rejected', 1);
      } else {
        const retryInMs = this.#q.nextAttemptMs - nowMs;
        this.#deps.log.warn(
          { code: codeOf(err), err: messageOf(err), reason: ev.reason, pending: this.pending, retryInMs },
          'could not create the transition Event; kept for a later pass',
        );
        break;
      }
    }
    this.#deps.onPending?.(this.pending);
  }

  #step(s: QueueStep, reason: EventDropReason): void {
    this.#q = s.queue;
    if (s.dropped > 0) {
      this.#deps.log.warn({ dropped: s.dropped, reason, pending: this.pending }, 'transition Events dropped from the retry queue');
      this.#deps.onDropped?.(reason, s.dropped);
    }
    this.#deps.onPending?.(this.pending);
  }
}
