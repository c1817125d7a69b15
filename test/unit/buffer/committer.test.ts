/** Group commit: shared transactions, bounds, drop policy and disk-full handling (MemoryStore simulating the medium). */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../agent/base/clock.ts';
import { GroupCommitter, type DropReason } from '../../../buffer/committer.ts';
import { MemoryStore } from '../../../buffer/store-memory.ts';
import type { DropPolicy } from '../../../buffer/bounds.ts';
import type { AppendedGroup, NewRecord } from '../../../buffer/types.ts';

const rec = (sink: string, size: number, priority = 1): NewRecord => ({
  sink,
  priority,
  createdMs: 1,
  expiresMs: null,
  contentType: null,
  contentEncoding: null,
  body: Buffer.alloc(size, 1),
});

function setup(policy: DropPolicy, maxBytes: number, diskBytes?: number) {
  const store = new MemoryStore(diskBytes !== undefined ? { diskBytes } : {});
  const drops: [string, DropReason, number][] = [];
  const commits: number[] = [];
  const c = new GroupCommitter(
    store,
    { maxDelayMs: 0, maxRecords: 1000, limits: { maxBytes, maxRecords: null, policy } },
    {
      onDrop: (s, r, n) => drops.push([s, r, n]),
      onCommit: (_s, n) => commits.push(n),
      onAppended: () => {},
    },
    new ManualClock(),
  );
  return { store, c, drops, commits };
}

describe('group commit', () => {
  it('acknowledges only once the group is durable (appendGroup); records arriving meanwhile form the next group', async () => {
    // A store whose commits finish at once but whose durability (the ledger's sync) the test releases by hand.
    const store = new MemoryStore();
    const syncs: (() => void)[] = [];
    const groups: number[] = [];
    const withGroup = Object.assign(store, {
      appendGroup(records: readonly NewRecord[]): AppendedGroup {
        groups.push(records.length);
        return { ids: store.appendMany(records), durable: new Promise<void>((r) => syncs.push(r)) };
      },
    });
    const c = new GroupCommitter(
      withGroup,
      { maxDelayMs: 0, maxRecords: 1000, limits: { maxBytes: 1e9, maxRecords: null, policy: 'drop-oldest' } },
      { onDrop: () => {}, onCommit: () => {}, onAppended: () => {} },
      new ManualClock(),
    );
    const acked: number[] = [];
    const first = [c.append(rec('a', 1)), c.append(rec('a', 1))].map((p) => p.then((id) => acked.push(id)));
    await new Promise((r) => setImmediate(r));
    const later = [c.append(rec('a', 1)), c.append(rec('a', 1)), c.append(rec('a', 1))].map((p) => p.then((id) => acked.push(id)));
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(groups, [2], "the next group waits for the first one's sync");
    assert.equal(store.usage().records, 2);
    assert.deepEqual(acked, [], 'nothing acknowledged before its group is durable');
    let drained = false;
    const d = c.drain().then(() => {
      drained = true;
    });
    syncs[0]!();
    await Promise.all(first);
    assert.equal(acked.length, 2);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(groups, [2, 3], 'the three waiting records shared one commit');
    assert.equal(drained, false, 'drain waits for the group still syncing');
    syncs[1]!();
    await Promise.all([...later, d]);
    assert.deepEqual(
      acked,
      [...acked].sort((x, y) => x - y),
    );
    assert.equal(acked.length, 5);
  });

  it('a group whose durability fails is answered with the error, never left waiting, and the next group still goes', async () => {
    const store = new MemoryStore();
    let fail = true;
    const withGroup = Object.assign(store, {
      appendGroup(records: readonly NewRecord[]): AppendedGroup {
        const ids = store.appendMany(records);
        const durable = fail ? Promise.reject(Object.assign(new Error('EIO'), { code: 'LW_BUFFER_UNAVAILABLE' })) : Promise.resolve();
        return { ids, durable };
      },
    });
    const c = new GroupCommitter(
      withGroup,
      { maxDelayMs: 0, maxRecords: 1000, limits: { maxBytes: 1e9, maxRecords: null, policy: 'drop-oldest' } },
      { onDrop: () => {}, onCommit: () => {}, onAppended: () => {} },
      new ManualClock(),
    );
    await assert.rejects(c.append(rec('a', 1)), /EIO/);
    fail = false;
    assert.equal(typeof (await c.append(rec('a', 1))), 'number');
  });

  it('concurrent appends share one transaction and get ordered ids', async () => {
    const { c, commits, store } = setup('drop-oldest', 1e9);
    const ids = await Promise.all(Array.from({ length: 100 }, () => c.append(rec('a', 10))));
    assert.deepEqual(commits, [100]);
    assert.deepEqual(
      ids,
      [...ids].sort((x, y) => x - y),
    );
    assert.equal(store.usage().records, 100);
  });

  it('splits a large burst at maxRecords', async () => {
    const store = new MemoryStore();
    const commits: number[] = [];
    const c = new GroupCommitter(
      store,
      { maxDelayMs: 0, maxRecords: 30, limits: { maxBytes: 1e9, maxRecords: null, policy: 'drop-oldest' } },
      { onDrop: () => {}, onCommit: (_s, n) => commits.push(n), onAppended: () => {} },
      new ManualClock(),
    );
    await Promise.all(Array.from({ length: 100 }, () => c.append(rec('a', 1))));
    assert.deepEqual(commits, [30, 30, 30, 10]);
  });

  it('drop-oldest evicts low priority first and counts overflow', async () => {
    const { c, drops, store } = setup('drop-oldest', 1000);
    await Promise.all([c.append(rec('hi', 400, 0)), c.append(rec('lo', 400, 2))]);
    await c.append(rec('hi', 400, 0));
    assert.deepEqual(drops, [['lo', 'overflow', 1]]);
    assert.deepEqual(
      store.depth().map((d) => d.sink),
      ['hi'],
    );
  });

  it('reject-new refuses with LW_BUFFER_FULL and counts rejected_full', async () => {
    const { c, drops } = setup('reject-new', 1000);
    const res = await Promise.allSettled([c.append(rec('a', 600)), c.append(rec('a', 600))]);
    assert.equal(res[0].status, 'fulfilled');
    assert.equal(res[1].status, 'rejected');
    assert.equal((res[1] as PromiseRejectedResult).reason.code, 'LW_BUFFER_FULL');
    assert.deepEqual(drops, [['a', 'rejected_full', 1]]);
  });

  it('disk full under drop-oldest evicts, counts disk_full and still stores the new record', async () => {
    const { c, drops, store } = setup('drop-oldest', 1e9, 3000);
    for (let i = 0; i < 5; i++) await c.append(rec('a', 500, 2));
    const id = await c.append(rec('b', 800, 0));
    assert.ok(id > 0);
    assert.ok(drops.some(([s, r]) => s === 'a' && r === 'disk_full'));
    assert.ok(store.usage().bytes <= 3000);
  });

  it('disk full under reject-new refuses (507 path) without throwing elsewhere, and recovers when space returns', async () => {
    const { c, drops, store } = setup('reject-new', 1e9, 1000);
    await c.append(rec('a', 900));
    await assert.rejects(c.append(rec('a', 200)), { code: 'LW_BUFFER_DISK_FULL' });
    assert.deepEqual(drops, [['a', 'disk_full', 1]]);
    store.purge({ sink: null, records: true, deadLetters: false });
    assert.ok((await c.append(rec('a', 200))) > 0);
  });
});
