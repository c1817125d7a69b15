/** An unknown link state holds linkward's decorations for unknownHoldSeconds measured on the monotonic clock, whatever the wall clock does. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { settle, startHarness, waitFor } from '../../support/k8s-harness.ts';

const DAY = 86_400_000;
const k = { unknownHoldSeconds: 120, resyncSeconds: 30 };
const tainted = (taints: { key: string; effect: string }[]): boolean => taints.some((x) => x.key.startsWith('linkward.io/'));

for (const [name, stepMs] of [
  ['stepped back a day', -DAY],
  ['stepped forward a day', DAY],
] as const) {
  test(`the wall clock ${name} while the link state is unknown: decorations come off after unknownHoldSeconds, no sooner, no later`, async (t) => {
    const h = await startHarness(['n1']);
    t.after(() => h.close());
    const a = await h.agent('n1', k);
    a.emit('degraded', 3);
    await waitFor('n1 tainted', () => tainted(h.node('n1').taints));
    a.emit('unknown');
    await settle(h.api);
    h.clock.stepWall(stepMs); // NTP corrects the clock
    for (let s = 0; s < 90; s += 30) {
      h.clock.advance(30_000);
      await settle(h.api);
    }
    assert.ok(tainted(h.node('n1').taints), 'kept while unknown for 90 s of 120');
    for (let s = 90; s < 180; s += 30) {
      h.clock.advance(30_000);
      await settle(h.api);
    }
    assert.ok(!tainted(h.node('n1').taints), 'taken off once unknown for longer than 120 s');
  });
}
