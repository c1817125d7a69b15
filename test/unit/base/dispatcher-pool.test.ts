/** RotatingDispatcher (D1): a new pool per uplink change, the old one drained then destroyed after the grace; the bus listener. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../agent/base/clock.ts';
import { onActiveUplinkChange, RETIRE_GRACE_MS, RotatingDispatcher, type RetirableDispatcher } from '../../../agent/base/dispatcher-pool.ts';

/** A dispatcher whose close() resolves only when the test says its in-flight request finished. */
class FakeDispatcher implements RetirableDispatcher {
  static made: FakeDispatcher[] = [];
  readonly id: number;
  closeCalls = 0;
  destroyCalls = 0;
  #finishClose: (() => void) | null = null;
  constructor() {
    this.id = FakeDispatcher.made.length;
    FakeDispatcher.made.push(this);
  }
  close(): Promise<void> {
    this.closeCalls += 1;
    return new Promise((resolve) => {
      this.#finishClose = resolve;
    });
  }
  /** The request in flight on this pool completed: a graceful close finishes. */
  drained(): void {
    this.#finishClose?.();
  }
  destroy(): Promise<void> {
    this.destroyCalls += 1;
    this.#finishClose?.();
    return Promise.resolve();
  }
}

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

function fresh(): { rd: RotatingDispatcher<FakeDispatcher>; clock: ManualClock } {
  FakeDispatcher.made = [];
  const clock = new ManualClock();
  return { rd: new RotatingDispatcher(() => new FakeDispatcher(), { clock }), clock };
}

describe('rotating dispatcher', () => {
  it('builds one pool at start and a fresh one per rotation; new requests go to the fresh one', () => {
    const { rd } = fresh();
    assert.equal(rd.current.id, 0);
    rd.rotate();
    assert.equal(rd.current.id, 1);
    assert.equal(rd.rotations, 1);
    assert.equal(FakeDispatcher.made.length, 2);
  });

  it('retires the old pool gracefully: close() lets its in-flight request finish, no destroy when it drains in time', async () => {
    const { rd, clock } = fresh();
    const old = rd.current;
    rd.rotate();
    assert.equal(old.closeCalls, 1);
    assert.equal(old.destroyCalls, 0, 'the request in flight is not cut at once');
    assert.equal(rd.draining, 1);
    clock.advance(RETIRE_GRACE_MS - 1);
    old.drained();
    await settle();
    assert.equal(rd.draining, 0);
    clock.advance(10 * RETIRE_GRACE_MS);
    await settle();
    assert.equal(old.destroyCalls, 0, 'a drained pool is not destroyed later');
    assert.equal(rd.current.closeCalls + rd.current.destroyCalls, 0, 'the new pool is untouched');
  });

  it('destroys an old pool still busy after the grace (its request fails and is retried on the new pool)', async () => {
    const { rd, clock } = fresh();
    const old = rd.current;
    rd.rotate();
    clock.advance(RETIRE_GRACE_MS - 1);
    await settle();
    assert.equal(old.destroyCalls, 0);
    clock.advance(1);
    await settle();
    assert.equal(old.destroyCalls, 1);
    assert.equal(rd.draining, 0);
  });

  it('two quick rotations (failover then failback) retire both old pools; close() destroys the current and the draining ones', async () => {
    const { rd } = fresh();
    rd.rotate();
    rd.rotate();
    assert.deepEqual(
      FakeDispatcher.made.map((d) => d.closeCalls),
      [1, 1, 0],
    );
    assert.equal(rd.draining, 2);
    await rd.close();
    assert.deepEqual(
      FakeDispatcher.made.map((d) => d.destroyCalls),
      [1, 1, 1],
    );
    rd.rotate();
    assert.equal(FakeDispatcher.made.length, 3, 'no pool is built after close');
  });
});

describe('active uplink listener', () => {
  it('fires only when the announced uplink differs from the last one; null (no opinion) is ignored', () => {
    const seen: string[] = [];
    const on = onActiveUplinkChange('gw1', (from, to) => seen.push(`${from}→${to}`));
    for (const name of ['gw1', null, 'gw2', 'gw2', null, 'gw1']) on(name);
    assert.deepEqual(seen, ['gw1→gw2', 'gw2→gw1']);
  });

  it('the first announcement after start counts as a change when none was known', () => {
    const seen: string[] = [];
    const on = onActiveUplinkChange(null, (from, to) => seen.push(`${from}→${to}`));
    on('gw1');
    on('gw1');
    assert.deepEqual(seen, ['null→gw1']);
  });
});
