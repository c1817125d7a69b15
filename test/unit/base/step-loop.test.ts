/** StepLoop: steps run back to back or after the wait they ask for; wake() ends a wait or skips the next; stop() waits for the running step. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../agent/base/clock.ts';
import { StepLoop } from '../../../agent/base/step-loop.ts';

const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

/** A loop whose n-th step (from 1) is `plan(n)`; `steps()` says how many have started. */
function counted(clock: ManualClock, plan: (n: number) => Promise<number>, onError: (e: unknown) => number = () => 0) {
  let n = 0;
  const loop = new StepLoop({ clock, step: () => plan(++n), onError });
  return { loop, steps: () => n };
}

/** A step result the test hands over by calling `release()`. */
function held(wait: number): { result: Promise<number>; release: () => void } {
  let release = (): void => {};
  const result = new Promise<number>((r) => (release = () => r(wait)));
  return { result, release };
}

test('a step runs again after the wait it asked for, or at once after a wake()', async () => {
  const clock = new ManualClock();
  const { loop, steps } = counted(clock, async () => 1_000);
  loop.start();
  await settle();
  assert.equal(steps(), 1);
  clock.advance(999);
  await settle();
  assert.equal(steps(), 1, 'still waiting');
  clock.advance(1);
  await settle();
  assert.equal(steps(), 2, 'the wait ended');
  loop.wake();
  await settle();
  assert.equal(steps(), 3, 'wake() ended the wait early');
  await loop.stop();
  clock.advance(10_000);
  await settle();
  assert.equal(steps(), 3, 'nothing after stop()');
});

test('a wake() while a step runs is not lost: the next wait is skipped', async () => {
  const clock = new ManualClock();
  const first = held(60_000);
  const { loop, steps } = counted(clock, (n) => (n === 1 ? first.result : Promise.resolve(60_000)));
  loop.start();
  await settle();
  loop.wake(); // new records arrived during the first step
  first.release();
  await settle();
  await settle();
  assert.equal(steps(), 2, 'the second step ran without waiting 60 s');
  await loop.stop();
});

test('a step that throws is reported and the loop goes on after the wait onError gives; stop() waits for a running step', async () => {
  const clock = new ManualClock();
  const errors: string[] = [];
  const second = held(0);
  const { loop, steps } = counted(
    clock,
    (n) => (n === 1 ? Promise.reject(new Error('disk full')) : second.result),
    (e) => (errors.push((e as Error).message), 200),
  );
  loop.start();
  await settle();
  assert.deepEqual(errors, ['disk full']);
  clock.advance(200);
  await settle();
  assert.equal(steps(), 2);
  let stopped = false;
  const s = loop.stop().then(() => (stopped = true));
  await settle();
  assert.equal(stopped, false, 'the running step is not cut short');
  second.release();
  await s;
  assert.equal(steps(), 2, 'no step after stop(), though the last one asked for none of a wait');
  assert.equal(loop.running, false);
});
