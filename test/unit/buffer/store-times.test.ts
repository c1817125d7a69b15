/** Store.beginShift / shiftSome / clampSome on both stores: which rows move, a slice at a time, sealed batches along, dead letters never. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isLwError } from '../../../agent/base/errors.ts';
import { BufferError } from '../../../buffer/errors.ts';
import { openBufferDb } from '../../../buffer/sqlite-open.ts';
import { MemoryStore } from '../../../buffer/store-memory.ts';
import { SqliteStore } from '../../../buffer/store-sqlite.ts';
import type { ShiftPlan, Store, TimeShift } from '../../../buffer/types.ts';
import { timedRecord } from '../../support/buffer-records.ts';

const H = 3_600_000;
const DAY = 24 * H;
const T = Date.UTC(2026, 11, 5, 12);

const rec = timedRecord;

const batch = (id: string, createdMs: number) => ({
  id,
  sink: 'a',
  priority: 1,
  createdMs,
  contentType: null,
  contentEncoding: null,
  body: Buffer.from(id),
  recordCount: 1,
});

/** A whole rebase in slices of `slice` records; returns the records moved. */
function shiftAll(s: Store, shifts: TimeShift[], slice = 2): number {
  for (const sh of shifts) s.queueShift(sh);
  let plan = s.beginShift();
  assert.ok(plan !== null);
  assert.deepEqual(s.shiftState().queued, [], 'begun: the queue is empty');
  while (plan.doneId < plan.lastId) plan = s.shiftSome(slice);
  assert.deepEqual(s.shiftState(), { plan: null, queued: [] }, 'a finished plan is no longer stored');
  return plan.moved;
}

/** A whole clamp in slices of `slice` records. */
function clampAll(s: Store, nowMs: number, caps: Map<string, number>, slice = 2): { created: number; expires: number } {
  const sum = { created: 0, expires: 0 };
  let after: number | null = 0;
  let until: number | null = null;
  while (after !== null) {
    const c = s.clampSome(nowMs, caps, after, until, slice);
    until = c.untilId;
    sum.created += c.created;
    sum.expires += c.expires;
    after = c.nextAfterId;
  }
  return sum;
}

const times = (s: Store): [string, number, number | null][] => s.listRecords(null, 100).map((r) => [Buffer.from(r.body).toString(), r.createdMs, r.expiresMs]);

const stores: [string, () => { store: Store; cleanup(): void }][] = [
  ['memory', () => ({ store: new MemoryStore(), cleanup: () => {} })],
  [
    'sqlite',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'buffer-times-'));
      return { store: new SqliteStore(openBufferDb(join(dir, 'buffer.db'), 1).db), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
    },
  ],
];

for (const [name, make] of stores) {
  describe(`stored times across clock steps: ${name}`, () => {
    it('a shift plan moves records (and expiry) and sealed batches at or before the cutoff; later rows and dead letters stay', () => {
      const { store: s, cleanup } = make();
      try {
        const [sealedId, deadId] = s.appendMany([rec('a', 'sealed', T - 2 * H, T - H), rec('a', 'dead', T - 2 * H, null)]);
        s.seal(batch('b-old', T - 2 * H), [sealedId!]);
        s.seal(batch('b-dead', T - 2 * H), [deadId!]);
        s.deadLetter('b-dead', 'refused', 400, T - 2 * H);
        s.appendMany([rec('a', 'old', T - H, T + H), rec('a', 'no-ttl', T - H, null), rec('a', 'at-cutoff', T, T + H), rec('a', 'new', T + 1, T + H)]);
        assert.equal(shiftAll(s, [{ deltaMs: 5 * H, cutoffMs: T }]), 4);
        assert.deepEqual(times(s), [
          ['sealed', T + 3 * H, T + 4 * H],
          ['old', T + 4 * H, T + 6 * H],
          ['no-ttl', T + 4 * H, null],
          ['at-cutoff', T + 5 * H, T + 6 * H],
          ['new', T + 1, T + H],
        ]);
        assert.equal(s.sealedBatch('a', 1)?.createdMs, T + 3 * H);
        assert.equal(s.listDeadLetters(10)[0]?.failedMs, T - 2 * H);
      } finally {
        s.close();
        cleanup();
      }
    });

    it('shifts waiting together apply in order: rows of the first move again with the second', () => {
      const { store: s, cleanup } = make();
      try {
        s.appendMany([rec('a', 'before-both', T - H, T), rec('a', 'between', T + 2 * H, T + 3 * H), rec('a', 'after', T + 10 * H, null)]);
        // first step +5 h seen at T + 5 h (cutoff T); second +1 h seen at T + 7 h (cutoff T + 6 h)
        assert.equal(
          shiftAll(s, [
            { deltaMs: 5 * H, cutoffMs: T },
            { deltaMs: H, cutoffMs: T + 6 * H },
          ]),
          2,
        );
        assert.deepEqual(times(s), [
          ['before-both', T + 5 * H, T + 6 * H],
          ['between', T + 3 * H, T + 4 * H],
          ['after', T + 10 * H, null],
        ]);
      } finally {
        s.close();
        cleanup();
      }
    });

    it('a clamp caps created at now and expiry per sink; sinks without a cap keep their expiry', () => {
      const { store: s, cleanup } = make();
      try {
        const [id] = s.appendMany([rec('a', 'future', T + 9 * H, T + 20 * H)]);
        s.seal(batch('b-future', T + 9 * H), [id!]);
        s.appendMany([rec('a', 'ok', T - H, T + H), rec('b', 'uncapped', T + H, T + 50 * H)]);
        assert.deepEqual(clampAll(s, T, new Map([['a', T + 2 * H]])), { created: 2, expires: 1 });
        assert.deepEqual(times(s), [
          ['future', T, T + 2 * H],
          ['ok', T - H, T + H],
          ['uncapped', T, T + 50 * H],
        ]);
        assert.equal(s.sealedBatch('a', 1)?.createdMs, T);
      } finally {
        s.close();
        cleanup();
      }
    });

    it('a plan goes a slice at a time; records stored after it began never move, those deleted meanwhile are skipped', () => {
      const { store: s, cleanup } = make();
      try {
        const ids = s.appendMany([1, 2, 3, 4, 5].map((i) => rec('a', `old${i}`, T - i * H, null)));
        s.queueShift({ deltaMs: DAY, cutoffMs: T });
        assert.deepEqual(s.shiftState(), { plan: null, queued: [{ deltaMs: DAY, cutoffMs: T }] }, 'queued the moment it is seen');
        let plan = s.beginShift();
        assert.deepEqual(plan, { shifts: [{ deltaMs: DAY, cutoffMs: T }], lastId: ids[4], doneId: 0, moved: 0 });
        plan = s.shiftSome(2);
        assert.deepEqual([plan.doneId, plan.moved], [ids[1], 2]);
        assert.deepEqual(s.shiftState().plan, plan, 'the plan is stored as it stands after each slice');
        s.queueShift({ deltaMs: H, cutoffMs: T + DAY }); // a second step while the plan runs waits in the queue
        assert.throws(() => s.beginShift(), /already under way/);
        s.appendMany([rec('a', 'later', T - H, null)]); // stored after the plan began (a new-frame time by rule)
        s.purge({ sink: 'a', records: true, deadLetters: false });
        s.appendMany([rec('a', 'after-purge', T - 2 * H, null)]);
        plan = s.shiftSome(2);
        assert.deepEqual([plan.doneId, plan.moved], [ids[4], 2], 'purged records are skipped; the plan ends at its last id');
        assert.deepEqual(s.shiftState(), { plan: null, queued: [{ deltaMs: H, cutoffMs: T + DAY }] });
        assert.deepEqual(times(s), [['after-purge', T - 2 * H, null]]);
      } finally {
        s.close();
        cleanup();
      }
    });

    it('nothing queued: no plan; an empty store: nothing to move; shiftSome without a plan is refused', () => {
      const { store: s, cleanup } = make();
      try {
        assert.equal(s.beginShift(), null);
        s.queueShift({ deltaMs: DAY, cutoffMs: T });
        const plan = s.beginShift();
        assert.equal(plan?.doneId, plan?.lastId);
        assert.deepEqual(s.shiftState(), { plan: null, queued: [] });
        assert.throws(
          () => s.shiftSome(10),
          (e: unknown) => isLwError(e, BufferError.UNAVAILABLE),
        );
      } finally {
        s.close();
        cleanup();
      }
    });

    it('a clamp covers the records present when it began: one stored between its slices is left alone', () => {
      const { store: s, cleanup } = make();
      try {
        s.appendMany([rec('a', 'ahead1', T + H, null), rec('a', 'ahead2', T + H, null)]);
        const first = s.clampSome(T, new Map(), 0, null, 1);
        s.appendMany([rec('a', 'stored-meanwhile', T + H, null)]);
        const second = s.clampSome(T, new Map(), first.nextAfterId ?? 0, first.untilId, 1);
        assert.deepEqual([first.created, second.created, second.nextAfterId], [1, 1, null]);
        assert.deepEqual(
          times(s).map(([b, c]) => [b, c]),
          [
            ['ahead1', T],
            ['ahead2', T],
            ['stored-meanwhile', T + H],
          ],
        );
      } finally {
        s.close();
        cleanup();
      }
    });
  });
}

describe('a clock rebase stored in buffer.db', () => {
  it('survives a close part-way: the next open reads the plan and the queue and goes on; each record moves once', () => {
    const dir = mkdtempSync(join(tmpdir(), 'buffer-plan-'));
    const file = join(dir, 'buffer.db');
    try {
      let s = new SqliteStore(openBufferDb(file, 1).db);
      s.appendMany([1, 2, 3, 4, 5].map((i) => rec('a', `r${i}`, T - i * H, T + DAY)));
      s.queueShift({ deltaMs: DAY, cutoffMs: T });
      s.beginShift();
      s.shiftSome(3);
      s.queueShift({ deltaMs: H, cutoffMs: T + DAY + 1 }); // a second step seen while the first plan ran
      s.close(); // a stop, crash or power cut after the third record's slice committed
      s = new SqliteStore(openBufferDb(file, 1).db);
      const st = s.shiftState();
      assert.equal(st.plan?.moved, 3);
      assert.deepEqual(st.queued, [{ deltaMs: H, cutoffMs: T + DAY + 1 }]);
      let plan: ShiftPlan | null = st.plan;
      while (plan !== null && plan.doneId < plan.lastId) plan = s.shiftSome(3);
      assert.equal(plan?.moved, 5);
      plan = s.beginShift();
      while (plan !== null && plan.doneId < plan.lastId) plan = s.shiftSome(3);
      assert.deepEqual(
        times(s).map(([, c]) => c),
        [1, 2, 3, 4, 5].map((i) => T - i * H + DAY + H),
        'both steps, once each',
      );
      s.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a plan or queue that cannot be read is LW_BUFFER_CORRUPT, naming the field; dropShift forgets both', () => {
    const dir = mkdtempSync(join(tmpdir(), 'buffer-plan-'));
    try {
      const { db } = openBufferDb(join(dir, 'buffer.db'), 1);
      const s = new SqliteStore(db);
      db.prepare("INSERT INTO buf_meta (key, value) VALUES ('clock_shift', ?)").run(JSON.stringify({ shifts: [], lastId: 'x', doneId: 0, moved: 0 }));
      assert.throws(
        () => s.shiftState(),
        (e: unknown) => isLwError(e, BufferError.CORRUPT) && /bad lastId/.test((e as Error).message),
      );
      db.prepare("UPDATE buf_meta SET value = '{' WHERE key = 'clock_shift'").run();
      assert.throws(() => s.shiftState(), /not JSON/);
      s.dropShift();
      db.prepare('INSERT INTO buf_meta (key, value) VALUES (\'clock_queue\', \'[{"deltaMs": 1.5, "cutoffMs": 0}]\')').run();
      assert.throws(() => s.shiftState(), /clock_queue.*not a list of shifts/);
      s.dropShift();
      assert.deepEqual(s.shiftState(), { plan: null, queued: [] });
      s.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
