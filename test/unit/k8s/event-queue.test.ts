/** Transition Event retry: the pure bounded queue (cap, TTL, backoff, outcomes) and the outbox on an injected clock. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { EventInput, NodeApi } from '../../../agent/k8s/api.ts';
import { LwError, type LwCode } from '../../../agent/base/errors.ts';
import { silentLogger } from '../../../agent/base/log.ts';
import { K8sErrorCode } from '../../../agent/k8s/errors.ts';
import { EventOutbox } from '../../../agent/k8s/event-outbox.ts';
import {
  EMPTY_EVENT_QUEUE,
  enqueueEvent,
  EVENT_QUEUE_MAX,
  EVENT_TTL_MS,
  eventDue,
  expireEvents,
  outcomeOfError,
  settleHead,
  type EventQueue,
} from '../../../agent/k8s/event-queue.ts';
import { T0 } from './helpers.ts';

const MAX_BACKOFF = 20_000;

function ev(reason: string, nowMs = T0): EventInput {
  return { namespace: 'default', reason, message: '', type: 'Warning', node: { name: 'n1' }, nowMs, name: `n1.${reason}` };
}

function queueOf(...events: EventInput[]): EventQueue {
  return events.reduce((q, e) => enqueueEvent(q, e).queue, EMPTY_EVENT_QUEUE);
}

test('the queue keeps at most EVENT_QUEUE_MAX (50) Events, dropping the oldest', () => {
  assert.equal(EVENT_QUEUE_MAX, 50);
  let q = EMPTY_EVENT_QUEUE;
  const dropped: number[] = [];
  for (let i = 0; i < 52; i++) {
    const s = enqueueEvent(q, ev(`E${i}`, T0 + i));
    q = s.queue;
    dropped.push(s.dropped);
  }
  assert.equal(q.pending.length, 50);
  assert.deepEqual(dropped.slice(0, 50), Array(50).fill(0));
  assert.deepEqual(dropped.slice(50), [1, 1]);
  assert.equal(q.pending[0]?.reason, 'E2', 'E0 and E1 (the oldest) went first');
  assert.equal(q.pending.at(-1)?.reason, 'E51');
  assert.equal(
    enqueueEvent(queueOf(ev('A'), ev('B')), ev('C'), 2)
      .queue.pending.map((e) => e.reason)
      .join(),
    'B,C',
  );
});

test('an Event 1 h (Kubernetes event TTL) after its transition is dropped; an emptied queue forgets its backoff', () => {
  assert.equal(EVENT_TTL_MS, 3_600_000);
  const q0 = { ...queueOf(ev('old', T0), ev('new', T0 + 30 * 60_000)), failures: 3, nextAttemptMs: T0 + 99 };
  assert.equal(expireEvents(q0, T0 + EVENT_TTL_MS - 1).dropped, 0);
  assert.equal(expireEvents(q0, T0 + EVENT_TTL_MS - 1).queue, q0, 'unchanged when nothing expired');
  const s = expireEvents(q0, T0 + EVENT_TTL_MS);
  assert.equal(s.dropped, 1);
  assert.deepEqual(
    s.queue.pending.map((e) => e.reason),
    ['new'],
  );
  assert.equal(s.queue.failures, 3, 'backoff kept while Events wait');
  const all = expireEvents(q0, T0 + 2 * EVENT_TTL_MS);
  assert.equal(all.dropped, 2);
  assert.deepEqual(all.queue, EMPTY_EVENT_QUEUE);
});

test('a failed send keeps the Event first and waits the reconcile backoff (full jitter under 1 s, 2 s, … capped); a send resets it', () => {
  let q = queueOf(ev('A'), ev('B'));
  assert.equal(eventDue(q, T0, MAX_BACKOFF), true);
  assert.equal(eventDue(EMPTY_EVENT_QUEUE, T0, MAX_BACKOFF), false);
  q = settleHead(q, 'retry', T0, MAX_BACKOFF, 0.999);
  assert.deepEqual([q.failures, q.nextAttemptMs - T0, q.pending[0]?.reason], [1, 999, 'A']);
  assert.equal(eventDue(q, T0 + 998, MAX_BACKOFF), false);
  assert.equal(eventDue(q, T0 + 999, MAX_BACKOFF), true);
  q = settleHead(q, 'retry', T0 + 1000, MAX_BACKOFF, 0.5);
  assert.equal(q.nextAttemptMs - (T0 + 1000), 1000, 'half of the 2 s ceiling');
  for (let i = 0; i < 10; i++) q = settleHead(q, 'retry', T0, MAX_BACKOFF, 1);
  assert.equal(q.nextAttemptMs - T0, MAX_BACKOFF, 'capped at maxBackoffMs');
  q = settleHead(q, 'sent', T0, MAX_BACKOFF, 0);
  assert.deepEqual(q, { pending: [ev('B')], failures: 0, nextAttemptMs: 0 });
  q = settleHead(q, 'rejected', T0, MAX_BACKOFF, 0);
  assert.deepEqual(q, EMPTY_EVENT_QUEUE);
  assert.equal(settleHead(EMPTY_EVENT_QUEUE, 'retry', T0, MAX_BACKOFF, 0), EMPTY_EVENT_QUEUE);
});

test('error codes: 409 means an earlier attempt created it (sent); only transient codes are retried, the rest is final', () => {
  assert.equal(outcomeOfError(K8sErrorCode.CONFLICT), 'sent');
  assert.equal(outcomeOfError(K8sErrorCode.NOT_FOUND), 'rejected');
  assert.equal(outcomeOfError(K8sErrorCode.REJECTED), 'rejected');
  for (const c of [K8sErrorCode.UNAVAILABLE, K8sErrorCode.TIMEOUT, K8sErrorCode.TOO_MANY_REQUESTS, K8sErrorCode.FORBIDDEN])
    assert.equal(outcomeOfError(c), 'retry', c);
  // A client-side bug would fail the same way forever and block every newer Event behind it.
  assert.equal(outcomeOfError('LW_INTERNAL'), 'rejected');
});

/** A NodeApi whose createEvent answers from `script` (an error code, or 'ok'), then 'ok'. */
function fakeApi(script: string[]): { api: NodeApi; posted: EventInput[] } {
  const posted: EventInput[] = [];
  const api = {
    createEvent: async (e: EventInput) => {
      const next = script.shift() ?? 'ok';
      if (next !== 'ok') throw new LwError(next as LwCode, `create event: ${next}`);
      posted.push(e);
    },
  } as unknown as NodeApi;
  return { api, posted };
}

function outbox() {
  const calls = { sent: 0, dropped: [] as string[], pending: -1 };
  const box = new EventOutbox({
    log: silentLogger(),
    maxBackoffMs: MAX_BACKOFF,
    random: () => 0.999,
    onSent: () => calls.sent++,
    onDropped: (r, n) => calls.dropped.push(`${r}:${n}`),
    onPending: (n) => (calls.pending = n),
  });
  return { box, calls };
}

test('outbox: a failed Event is retried on a later pass once the backoff elapsed, in order, with the same name, exactly once', async () => {
  const { box, calls } = outbox();
  const { api, posted } = fakeApi([K8sErrorCode.UNAVAILABLE, K8sErrorCode.TIMEOUT]);
  const { name: _drop, ...unnamed } = ev('LinkDegraded');
  box.add(unnamed);
  await box.flush(api, T0);
  assert.deepEqual([box.pending, calls.pending, posted.length], [1, 1, 0]);
  box.add({ ...unnamed, reason: 'LinkDown', nowMs: T0 + 500 });
  await box.flush(api, T0 + 500);
  assert.equal(posted.length, 0, 'backoff (999 ms of the 1 s ceiling) not over: no request, the newer Event waits behind the older');
  await box.flush(api, T0 + 999);
  assert.deepEqual([box.pending, posted.length], [2, 0], 'second failure');
  await box.flush(api, T0 + 999 + 1997);
  assert.equal(posted.length, 0, 'backoff now 1998 ms (of the 2 s ceiling)');
  await box.flush(api, T0 + 999 + 1998);
  assert.deepEqual(
    posted.map((e) => e.reason),
    ['LinkDegraded', 'LinkDown'],
    'both sent, oldest first',
  );
  assert.deepEqual([box.pending, calls.pending, calls.sent], [0, 0, 2]);
  assert.match(posted[0]?.name ?? '', /^n1\.[0-9a-f]+-0-ffa$/, 'named when queued');
  assert.notEqual(posted[0]?.name, posted[1]?.name, 'unique even with the same random number');
  assert.equal(posted[0]?.nowMs, T0, 'keeps the transition time');
  await box.flush(api, T0 + 60_000);
  assert.equal(posted.length, 2, 'nothing sent twice');
  assert.deepEqual(calls.dropped, []);
});

test('outbox: 409 counts as sent; a 422 is dropped as rejected; expiry and overflow are counted', async () => {
  const { box, calls } = outbox();
  const { api, posted } = fakeApi([K8sErrorCode.CONFLICT, K8sErrorCode.REJECTED]);
  box.add(ev('A'));
  box.add(ev('B'));
  box.add(ev('C'));
  await box.flush(api, T0);
  assert.deepEqual(
    posted.map((e) => e.reason),
    ['C'],
  );
  assert.deepEqual([calls.sent, calls.dropped.join()], [2, 'rejected:1']);
  const down = fakeApi(Array(100).fill(K8sErrorCode.UNAVAILABLE));
  for (let i = 0; i < EVENT_QUEUE_MAX + 3; i++) box.add(ev(`E${i}`, T0 + i));
  assert.deepEqual(calls.dropped.slice(1), ['overflow:1', 'overflow:1', 'overflow:1']);
  await box.flush(down.api, T0 + 100);
  assert.equal(box.pending, EVENT_QUEUE_MAX);
  await box.flush(down.api, T0 + EVENT_TTL_MS + 100);
  assert.equal(calls.dropped.at(-1), `expired:${EVENT_QUEUE_MAX}`);
  assert.deepEqual([box.pending, calls.pending], [0, 0]);
});

test('wall clock stepped back: a pending retry is due at once, and an Event stamped far in the "future" expires', () => {
  let q = settleHead(queueOf(ev('A')), 'retry', T0, MAX_BACKOFF, 0.9);
  assert.equal(eventDue(q, T0 + 500, MAX_BACKOFF), false, 'normal backoff (900 ms)');
  assert.equal(eventDue(q, T0 - 3_600_000, MAX_BACKOFF), true, 'clock 1 h back: would otherwise wait an hour');
  q = queueOf(ev('A', T0));
  assert.equal(expireEvents(q, T0 - 2 * EVENT_TTL_MS).dropped, 1, 'age is |now - stamp|');
  assert.equal(expireEvents(q, T0 - 60_000).dropped, 0);
});
