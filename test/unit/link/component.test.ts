/** Link component tests with a real state DB and registry on a manual clock: bus in/out, timer-driven dwell and staleness, metrics, persistence. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { AgentBus } from '../../../agent/runtime/bus.ts';
import { ManualClock } from '../../../agent/base/clock.ts';
import type { LinkSnapshot } from '../../../agent/core/types.ts';
import { createLinkComponent } from '../../../agent/link/component.ts';
import { defaultLinkHealthConfig } from '../../../agent/config/link.ts';
import { keepAlive, makeLinkContext } from '../../support/link-context.ts';
import { carrier, light } from '../../support/link-samples.ts';

const policy = defaultLinkHealthConfig();

function setup(t: { after(fn: () => void): void }) {
  const clock = new ManualClock();
  const ctx = makeLinkContext(
    {
      uplinks: [
        { name: 'lte', priority: 200 },
        { name: 'wan', priority: 10 },
      ],
    },
    { clock },
  );
  const snaps: LinkSnapshot[] = [];
  ctx.bus.on('link', (s) => snaps.push(s));
  const comp = keepAlive(createLinkComponent(ctx, { health: policy }));
  t.after(async () => {
    await comp.stop();
    ctx.cleanup();
  });
  return { clock, ctx, comp, snaps };
}

test('starts unknown, follows the highest-priority uplink, and reacts to samples on the bus', async (t) => {
  const { clock, ctx, comp, snaps } = setup(t);
  await comp.start();
  assert.equal(snaps.at(-1)?.node, 'unknown');
  assert.equal(snaps.at(-1)?.active, 'wan', 'priority 10 beats 200');
  assert.equal(comp.status().state, 'starting');
  ctx.bus.emit('sample', light('wan', clock.nowMs()));
  assert.equal(snaps.at(-1)?.node, 'healthy');
  assert.equal(ctx.bus.latestLink()?.uplinks.wan?.health, 'healthy');
  assert.equal(ctx.bus.latestLink()?.uplinks.lte?.health, 'unknown');
  ctx.bus.emit('active', 'lte');
  assert.equal(snaps.at(-1)?.node, 'unknown', 'node follows the announced active uplink');
  assert.deepEqual(comp.notReadyReasons?.(), [], 'a bad link never makes the agent unready');
});

test('dwell and staleness progress on the timer without new samples', async (t) => {
  const { clock, ctx, comp, snaps } = setup(t);
  await comp.start();
  ctx.bus.emit('sample', light('wan', clock.nowMs()));
  ctx.bus.emit('sample', light('wan', clock.nowMs(), { rttP95Ms: 400 }));
  assert.equal(snaps.at(-1)?.node, 'healthy');
  clock.advance(14_000);
  assert.equal(ctx.bus.latestLink()?.node, 'healthy');
  clock.advance(1_000);
  assert.equal(ctx.bus.latestLink()?.node, 'degraded', 'enter dwell of 15 s ended on the timer');
  assert.deepEqual(ctx.bus.latestLink()?.uplinks.wan?.reasons, ['rtt_p95=400ms>250']);
  assert.equal(comp.status().state, 'degraded');
  assert.match(comp.status().message ?? '', /node link degraded via wan: rtt_p95=400ms>250/);
  clock.advance(106_000); // 121 s after the last sample
  assert.equal(ctx.bus.latestLink()?.node, 'unknown', 'stale measurements make the node unknown');
  assert.match(ctx.bus.latestLink()?.uplinks.wan?.reasons[0] ?? '', /^stale: /);
});

test('metrics: 0/1 state gauges, node state, transition counters', async (t) => {
  const { clock, ctx, comp } = setup(t);
  await comp.start();
  ctx.bus.emit('sample', light('wan', clock.nowMs()));
  ctx.bus.emit('sample', carrier('lte', clock.nowMs(), false));
  const text = await ctx.metrics.metrics();
  assert.match(text, /linkward_link_state\{uplink="wan",state="healthy"\} 1/);
  assert.match(text, /linkward_link_state\{uplink="wan",state="unknown"\} 0/);
  assert.match(text, /linkward_link_state\{uplink="lte",state="down"\} 1/);
  assert.match(text, /linkward_link_node_state\{state="healthy"\} 1/);
  assert.match(text, /linkward_link_transitions_total\{uplink="wan",from="unknown",to="healthy"\} 1/);
  assert.match(text, /linkward_link_transitions_total\{uplink="lte",from="unknown",to="down"\} 1/);
  assert.match(text, /linkward_link_node_transitions_total\{from="unknown",to="healthy"\} 1/);
});

test('transitions are stored in link_ tables; a restart starts unknown but keeps the damping penalty', async (t) => {
  const { clock, ctx, comp } = setup(t);
  await comp.start();
  // Flap the link until damping suppresses it (good/bad every 2 min for 14 min, ending good; a sample every 20 s).
  for (let i = 0; i < 42; i++) {
    ctx.bus.emit('sample', light('wan', clock.nowMs(), Math.floor(i / 6) % 2 === 1 ? { lossPercent: 10 } : {}));
    clock.advance(20_000);
  }
  const before = ctx.bus.latestLink();
  assert.equal(before?.node, 'degraded', 'held degraded although the last samples were good');
  assert.equal(before?.uplinks.wan?.latest.lossPercent, 0);
  await comp.stop();
  const rows = keepAlive(ctx.stateDb.prepare('SELECT uplink, from_health, to_health FROM link_transitions ORDER BY id')).all() as {
    uplink: string | null;
    to_health: string;
  }[];
  const wan = rows.filter((r) => r.uplink === 'wan').map((r) => r.to_health);
  assert.deepEqual(wan.slice(0, 3), ['healthy', 'degraded', 'healthy']);
  assert.equal(wan.at(-1), 'degraded');
  const damp = keepAlive(ctx.stateDb.prepare('SELECT penalty, suppressed, last_flap_ms FROM link_damping WHERE uplink = ?')).get('wan') as {
    penalty: number;
    suppressed: number;
    last_flap_ms: number | null;
  };
  assert.ok(damp.penalty > policy.damping.reuseBelow && damp.suppressed === 1, JSON.stringify(damp));
  assert.ok(typeof damp.last_flap_ms === 'number' && damp.last_flap_ms <= clock.nowMs(), 'the last flap time is saved with the penalty');

  // Restart on the same state DB: unknown until measured, then held degraded by the restored penalty.
  const ctx2 = { ...ctx, metrics: new Registry(), bus: new AgentBus() };
  const comp2 = keepAlive(createLinkComponent(ctx2, { health: policy }));
  t.after(() => comp2.stop());
  await comp2.start();
  assert.equal(ctx2.bus.latestLink()?.node, 'unknown');
  ctx2.bus.emit('sample', light('wan', clock.nowMs()));
  assert.equal(ctx2.bus.latestLink()?.node, 'degraded');
  assert.match(ctx2.bus.latestLink()?.uplinks.wan?.reasons.join(' ') ?? '', /damped: flapping/);
  const details = comp2.status().details as { recentTransitions: unknown[]; uplinks: Record<string, { suppressed: boolean; dampedUntilMs: number | null }> };
  assert.equal(details.uplinks.wan?.suppressed, true);
  // The restored hold is bounded by the saved last flap: at most maxHoldS after it, not after the restart.
  const until = details.uplinks.wan?.dampedUntilMs;
  assert.ok(
    until !== null && until !== undefined && until <= (damp.last_flap_ms as number) + policy.damping.maxHoldS * 1000 + 1,
    `${until} vs last flap ${damp.last_flap_ms}`,
  );
  assert.ok(details.recentTransitions.length >= 2);
});

test('a broken state DB does not stop the link state from working', async (t) => {
  const { clock, ctx, comp } = setup(t);
  ctx.stateDb.close();
  await comp.start();
  ctx.bus.emit('sample', carrier('wan', clock.nowMs(), false));
  assert.equal(ctx.bus.latestLink()?.node, 'down');
  assert.ok((comp.status().details as { storeErrors: number }).storeErrors >= 1);
});
