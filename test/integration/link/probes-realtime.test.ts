/** Integration in real time: the real probes component measures switchable UDP echo targets; the link component turns that into states. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../../agent/base/clock.ts';
import type { LinkHealth, LinkSnapshot } from '../../../agent/core/types.ts';
import { createLinkComponent } from '../../../agent/link/component.ts';
import { LinkHealthConfigSchema } from '../../../agent/config/link.ts';
import { createProbesComponent } from '../../../probes/component.ts';
import { realProbesDeps } from '../../../probes/adapters.ts';
import { keepAlive, makeLinkContext } from '../../support/link-context.ts';
import { startEcho, type EchoMode } from '../../support/link-echo.ts';

/** Short dwell so the test runs in seconds; the default-dwell figures come from scripts/bench/link-realtime.mjs. */
const policy = LinkHealthConfigSchema.parse({ dwell: { enterS: 1, exitS: 2 }, damping: { enabled: false } });
/** Bound for every wait: far above the expected 1–4 s, so only a real failure trips it. */
const WAIT_LIMIT_MS = 20_000;

test('real probes over loopback: unknown → healthy → down (no quorum) → healthy → degraded (RTT) → healthy', async (t) => {
  const echoes = await Promise.all([startEcho(), startEcho(), startEcho()]);
  const ctx = makeLinkContext(
    { probes: { targets: echoes.map((e) => e.target), intervalMs: 500, maxIntervalMs: 500, timeoutMs: 600, windowPackets: 4 } },
    { clock: systemClock },
  );
  const snaps: LinkSnapshot[] = [];
  ctx.bus.on('link', (s) => snaps.push(s));
  const link = keepAlive(createLinkComponent(ctx, { health: policy }));
  const probes = keepAlive(createProbesComponent(ctx, realProbesDeps()));
  await link.start();
  assert.equal(ctx.bus.latestLink()?.node, 'unknown', 'unknown before any probe round');
  await probes.start();
  t.after(async () => {
    await probes.stop();
    await link.stop();
    await Promise.all(echoes.map((e) => e.close()));
    ctx.cleanup();
  });

  const until = async (want: LinkHealth): Promise<number> => {
    const t0 = Date.now();
    // Bounded poll: at most WAIT_LIMIT_MS / 50 ms iterations.
    while (Date.now() - t0 < WAIT_LIMIT_MS) {
      if (ctx.bus.latestLink()?.node === want) return Date.now() - t0;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.fail(`node did not become ${want} within ${WAIT_LIMIT_MS} ms; last: ${JSON.stringify(ctx.bus.latestLink()?.uplinks)}`);
  };
  const setAll = (m: EchoMode): void => echoes.forEach((e) => e.set(m));

  await until('healthy');
  const firstHealthy = snaps.findIndex((s) => s.node === 'healthy');
  assert.ok(
    snaps.slice(0, firstHealthy).every((s) => s.node === 'unknown'),
    'nothing but unknown before the first healthy',
  );

  setAll({ kind: 'drop' });
  const downMs = await until('down');
  assert.match(ctx.bus.latestLink()?.uplinks.default?.reasons.join(' ') ?? '', /unreachable=0\/3 targets<quorum/);

  setAll({ kind: 'ok' });
  const upMs = await until('healthy');

  setAll({ kind: 'delay', ms: 400 });
  const slowMs = await until('degraded');
  assert.match(ctx.bus.latestLink()?.uplinks.default?.reasons.join(' ') ?? '', /rtt_p95=\d+ms>250/);
  setAll({ kind: 'ok' });
  await until('healthy');
  t.diagnostic(`real time with probes every 0.5 s, dwell 1 s/2 s: down after ${downMs} ms, healthy after ${upMs} ms, degraded after ${slowMs} ms`);
});
