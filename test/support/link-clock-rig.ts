/** The link component on a manual clock with two uplinks (wan, lte), fed a light sample per uplink every 2 s. */
import { ManualClock } from '../../agent/base/clock.ts';
import type { LinkHealthConfig } from '../../agent/config/link.ts';
import { createLinkComponent } from '../../agent/link/component.ts';
import { keepAlive, makeLinkContext } from './link-context.ts';
import { light } from './link-samples.ts';

/** Starts the component at wall time `startMs` with `policy`; `done()` stops it and cleans up. */
export async function linkClockRig(startMs: number, policy: LinkHealthConfig) {
  const clock = new ManualClock(startMs);
  const ctx = makeLinkContext(
    {
      uplinks: [
        { name: 'wan', priority: 10 },
        { name: 'lte', priority: 20 },
      ],
    },
    { clock },
  );
  const comp = keepAlive(createLinkComponent(ctx, { health: policy }));
  await comp.start();
  /** `rounds` light rounds 2 s apart; `wan` overrides wan's sample fields. */
  const feed = (rounds: number, wan: Parameters<typeof light>[2] = {}): void => {
    for (let i = 0; i < rounds; i++) {
      for (const u of ['wan', 'lte']) ctx.bus.emit('sample', light(u, clock.nowMs(), u === 'wan' ? wan : {}));
      clock.advance(2_000);
    }
  };
  const view = (u: string) => ctx.bus.latestLink()?.uplinks[u];
  const health = (u: string) => view(u)?.health;
  return { clock, ctx, comp, feed, view, health, done: async () => (await comp.stop(), ctx.cleanup()) };
}
