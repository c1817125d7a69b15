/** ByteBudget: admission in arrival order, lone oversize requests, growth of chunked bodies, no deadlock, no leaks. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ByteBudget, type Lease } from '../../../buffer/inflight.ts';

/** Lets pending promise callbacks run. */
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

describe('ByteBudget', () => {
  it('admits at once while there is room, then queues in arrival order', async () => {
    const b = new ByteBudget(100);
    const a = b.tryAcquire(60)!;
    assert.ok(a);
    assert.equal(b.tryAcquire(50), null, 'does not fit');
    const order: string[] = [];
    const p1 = b.acquire(50).then((l) => {
      order.push('50');
      return l;
    });
    const p2 = b.acquire(10).then((l) => {
      order.push('10');
      return l;
    });
    assert.equal(b.tryAcquire(10), null, 'someone waits: no overtaking even when it would fit');
    await settle();
    assert.deepEqual(order, []);
    assert.equal(b.waiting, 2);
    a.release();
    const [l1, l2] = await Promise.all([p1, p2]);
    assert.deepEqual(order, ['50', '10']);
    assert.equal(b.used, 60);
    l1.release();
    l2.release();
    l2.release(); // idempotent
    assert.equal(b.used, 0);
  });

  it('lets one request larger than the whole budget through when nothing else is held', async () => {
    const b = new ByteBudget(100);
    const big = b.tryAcquire(500);
    assert.ok(big, 'alone: admitted');
    let second: Lease | null = null;
    void b.acquire(1).then((l) => {
      second = l;
    });
    await settle();
    assert.equal(second, null, 'waits behind the oversize one');
    big.release();
    await settle();
    assert.ok(second);
    assert.equal(b.used, 1);
  });

  it('shrink gives back what a reservation did not need and wakes waiters', async () => {
    const b = new ByteBudget(100);
    const a = b.tryAcquire(100)!;
    let got = false;
    void b.acquire(40).then(() => {
      got = true;
    });
    a.shrink(60);
    await settle();
    assert.equal(got, true);
    assert.equal(b.used, 100);
  });

  it('a chunked body grows at once when it fits; otherwise it waits, except the oldest, so reading never deadlocks', async () => {
    const b = new ByteBudget(100);
    const oldest = b.tryAcquire(10)!;
    const young = b.tryAcquire(10)!;
    assert.equal(young.cover(50), null, 'fits: grown at once');
    assert.equal(young.held, 50);
    // 60 used; the young one needs 60 more: over the limit and not the oldest → waits.
    const wait = young.cover(110);
    assert.ok(wait);
    let grown = false;
    void wait.then(() => {
      grown = true;
    });
    // The oldest may always grow, even past the limit, so it can finish and let the others go on.
    assert.equal(oldest.cover(200), null);
    assert.equal(b.used, 250);
    await settle();
    assert.equal(grown, false);
    oldest.release();
    await settle();
    assert.equal(grown, true, 'the young one is now the oldest');
    assert.equal(young.held, 110);
    young.release();
    assert.equal(b.used, 0);
  });

  it('releasing a lease that waits to grow ends the wait and returns every byte', async () => {
    const b = new ByteBudget(100);
    const first = b.tryAcquire(90)!;
    const second = b.tryAcquire(10)!;
    const wait = second.cover(50)!;
    assert.ok(wait);
    second.release();
    await wait; // resolved, not left hanging
    assert.equal(b.waiting, 0);
    assert.equal(second.cover(80), null, 'a released lease no longer counts');
    first.release();
    assert.equal(b.used, 0);
  });
});
