/** createCoalescer: no overlap, triggers during a run collapse into exactly one rerun, errors reported, blocking holds runs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCoalescer } from '../../../agent/base/coalesce.ts';

/** A task whose runs finish only when the test says so. */
function gatedTask() {
  const gates: (() => void)[] = [];
  let running = 0;
  let maxRunning = 0;
  let runs = 0;
  const task = (): Promise<void> => {
    runs++;
    running++;
    maxRunning = Math.max(maxRunning, running);
    return new Promise<void>((resolve) =>
      gates.push(() => {
        running--;
        resolve();
      }),
    );
  };
  const release = async (): Promise<void> => {
    const g = gates.shift();
    assert.ok(g, 'a run is waiting');
    g();
    for (let i = 0; i < 5; i++) await Promise.resolve();
  };
  return { task, release, runs: () => runs, maxRunning: () => maxRunning, waiting: () => gates.length };
}

test('triggers during a run collapse into one rerun, never overlapping', async () => {
  const t = gatedTask();
  const c = createCoalescer(t.task, () => assert.fail('no error expected'));
  const first = c.run();
  const second = c.run();
  const third = c.run();
  assert.equal(t.runs(), 1);
  assert.equal(c.busy(), true);
  await t.release();
  assert.equal(t.runs(), 2, 'one rerun for the two triggers that arrived meanwhile');
  await t.release();
  await Promise.all([first, second, third]);
  assert.equal(t.runs(), 2);
  assert.equal(t.maxRunning(), 1);
  assert.equal(c.busy(), false);
});

test('a run started after the previous finished runs at once', async () => {
  const t = gatedTask();
  const c = createCoalescer(t.task, () => {});
  const a = c.run();
  await t.release();
  await a;
  const b = c.run();
  assert.equal(t.runs(), 2);
  await t.release();
  await b;
  assert.equal(t.waiting(), 0);
});

test('a failing run is reported and the pending rerun still happens', async () => {
  const errors: unknown[] = [];
  let n = 0;
  let release: () => void = () => {};
  const c = createCoalescer(
    async () => {
      n++;
      if (n === 1) {
        await new Promise<void>((r) => {
          release = r;
        });
        throw new Error('first run fails');
      }
    },
    (e) => errors.push(e),
  );
  const done = c.run();
  void c.run();
  release();
  await done;
  assert.equal(n, 2);
  assert.equal(errors.length, 1);
  assert.match(String(errors[0]), /first run fails/);
});

test('while blocked, calls only mark the work dirty; the next unblocked call runs it once', async () => {
  let blocked = true;
  let n = 0;
  const c = createCoalescer(
    async () => {
      n++;
    },
    () => {},
    () => blocked,
  );
  await c.run();
  await c.run();
  assert.equal(n, 0);
  blocked = false;
  await c.run();
  assert.equal(n, 1);
  await c.idle();
  assert.equal(c.busy(), false);
});
