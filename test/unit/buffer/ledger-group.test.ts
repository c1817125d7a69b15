/** Record ledger, group written ahead of its commit: a crash mid-commit is not a loss, a lost committed group is. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { ManualClock } from '../../../agent/base/clock.ts';
import { CONFIRM_AFTER_MS, RecordLedger } from '../../../buffer/ledger.ts';

/** A ledger file in a fresh directory; `fn` gets its path and a clock whose timers fire only when advanced. */
async function withLedger(fn: (path: string, clock: ManualClock) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'buffer-ledger-group-'));
  try {
    await fn(join(dir, 'l'), new ManualClock());
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** What a restart sees: the file as it is on disk now (the running ledger is abandoned, as by kill -9). */
function reopen(path: string): RecordLedger {
  const copy = `${path}.after-crash`;
  writeFileSync(copy, readFileSync(path));
  return new RecordLedger(copy);
}

const timer = (clock: ManualClock) => (ms: number, fn: () => void) => clock.setTimer(ms, fn);

describe('record ledger: a group written ahead of its commit', () => {
  it('a crash after the slot but before the commit: the group is reported as uncommitted, not as lost', () =>
    withLedger(async (path, clock) => {
      const l = new RecordLedger(path, timer(clock));
      l.reconcile(0);
      l.added(5); // ids 1..5, committed long ago
      await l.adding(3, 5); // ids above 5 would be the group's; the commit never returns (crash)
      const r = reopen(path);
      // the file holds the 5 older records and nothing above id 5
      assert.deepEqual(
        r.reconcile(5, (id) => (id >= 5 ? 0 : 5 - id)),
        { expected: 5, present: 5, missing: 0, uncommitted: 3 },
      );
      assert.equal(r.expected, 5, 're-based without the group');
      assert.deepEqual(r.reconcile(5), { expected: 5, present: 5, missing: 0, uncommitted: 0 }, 'reported once');
      r.close();
      l.close();
    }));

  it('a committed group is confirmed before its 202s: a kill right after them reports a later loss of it', () =>
    withLedger(async (path, clock) => {
      const l = new RecordLedger(path, timer(clock));
      l.reconcile(0);
      const durable = l.adding(4, 0);
      l.committed(); // the commit returned while the slot's fdatasync was still running
      await durable; // what the 202s wait for
      // killed now: the confirming slot is in the page cache, so a WAL that lost the group is a loss, not "uncommitted"
      const lost = reopen(path);
      assert.deepEqual(
        lost.reconcile(0, () => 0),
        { expected: 4, present: 0, missing: 4, uncommitted: 0 },
      );
      lost.close();
      const kept = reopen(path);
      assert.deepEqual(
        kept.reconcile(4, () => 4),
        { expected: 4, present: 4, missing: 0, uncommitted: 0 },
      );
      kept.close();
      clock.advance(CONFIRM_AFTER_MS); // the lazy fdatasync of the confirming slot starts
      l.removed(1); // a synchronous write while it runs: the durable slot is still never overwritten
      l.close();
      assert.deepEqual(new RecordLedger(path).totals, { added: 4, removed: 1 });
    }));

  it('a group that commits after its slot is durable is confirmed at once', () =>
    withLedger(async (path, clock) => {
      const l = new RecordLedger(path, timer(clock));
      l.reconcile(0);
      const durable = l.adding(2, 0);
      await durable; // the slot's sync ended before the commit returned (a slow commit)
      l.committed();
      const r = reopen(path);
      assert.deepEqual(
        r.reconcile(0, () => 0),
        { expected: 2, present: 0, missing: 2, uncommitted: 0 },
      );
      r.close();
      l.close();
    }));

  it('the next group’s slot confirms the previous one (no confirming write under load)', () =>
    withLedger(async (path, clock) => {
      const l = new RecordLedger(path, timer(clock));
      l.reconcile(0);
      const a = l.adding(2, 0);
      l.committed();
      await a;
      const b = l.adding(3, 2); // before the confirm timer: this slot carries group b only
      await b;
      const r = reopen(path);
      // group a (ids 1, 2) is lost from the file, group b never committed
      assert.deepEqual(
        r.reconcile(0, () => 0),
        { expected: 2, present: 0, missing: 2, uncommitted: 3 },
      );
      r.close();
      l.uncommitted();
      assert.equal(l.expected, 2, 'a failed commit leaves the totals');
      const written = new RecordLedger(path);
      assert.deepEqual(written.totals, { added: 2, removed: 0 }, 'and is written at once');
      written.close();
      l.close();
    }));

  it('reads a ledger written in the first layout (LWL1) and continues its generations', () =>
    withLedger(async (path, clock) => {
      const slot = (gen: number, added: number, removed: number): Buffer => {
        const b = Buffer.alloc(32);
        b.writeUInt32LE(0x4c57_4c31, 0);
        b.writeUInt32LE(gen, 4);
        b.writeDoubleLE(added, 8);
        b.writeDoubleLE(removed, 16);
        b.writeUInt32LE(crc32(b.subarray(0, 28)), 28);
        return b;
      };
      writeFileSync(path, Buffer.concat([slot(8, 40, 10), slot(7, 30, 10)]));
      const l = new RecordLedger(path, timer(clock));
      assert.equal(l.found, true);
      assert.deepEqual(l.totals, { added: 40, removed: 10 });
      l.removed(5);
      l.close();
      // garble the old layout entirely: the new slot alone carries the totals
      const fd = openSync(path, 'r+');
      writeSync(fd, Buffer.alloc(64, 0xee), 0, 64, 0);
      closeSync(fd);
      const again = new RecordLedger(path);
      assert.deepEqual(again.totals, { added: 40, removed: 15 });
      again.close();
    }));
});
