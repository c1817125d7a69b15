/** Integration: an uplink's IPv6 targets are probed from its IPv6 address; without one they are set aside, not counted as loss. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server } from 'node:net';
import type { ProbeSample } from '../../../agent/core/types.ts';
import { realProbesDeps } from '../../../probes/adapters.ts';
import { createProbesComponent } from '../../../probes/component.ts';
import { probesTestContext } from '../../support/probes-context.ts';

/** A TCP listener that accepts and closes (a probe target that answers). */
async function listener(host: string): Promise<{ port: number; server: Server }> {
  const server = createServer((s) => s.destroy());
  await new Promise<void>((r) => server.listen(0, host, r));
  return { port: (server.address() as AddressInfo).port, server };
}

/** Runs the component until `n` light samples of uplink wan came in (bounded), then stops it. */
async function lightSamples(uplink: Record<string, unknown>, targets: string[], n: number) {
  const ctx = probesTestContext({ probes: { targets, intervalMs: 500, timeoutMs: 400 }, uplinks: { list: [{ name: 'wan', ...uplink }] } });
  const c = createProbesComponent(ctx, realProbesDeps());
  const samples: ProbeSample[] = [];
  ctx.bus.on('sample', (s) => s.kind === 'light' && samples.push(s));
  await c.start();
  const end = Date.now() + 10_000;
  while (samples.length < n && Date.now() < end) await new Promise((r) => setTimeout(r, 25));
  const details = c.status().details as { uplinks: Record<string, { unprobed?: string[]; error?: string }> };
  await c.stop();
  ctx.stateDb.close();
  assert.ok(samples.length >= n, `${n} light samples within 10 s (got ${samples.length})`);
  return { samples, wan: details.uplinks.wan! };
}

test('dual-stack uplink: IPv4 targets from its IPv4 address, IPv6 targets from its IPv6 address: both answer', async (t) => {
  const [v4, v6] = [await listener('127.0.0.1'), await listener('::1')];
  t.after(() => [v4, v6].forEach((l) => l.server.close()));
  const { samples, wan } = await lightSamples(
    { sourceAddress: '127.0.0.1', sourceAddress6: '::1' },
    [`tcp://127.0.0.1:${v4.port}`, `tcp://[::1]:${v6.port}`],
    3,
  );
  for (const s of samples) {
    assert.equal(s.targetsTotal, 2);
    assert.equal(s.targetsUp, 2, JSON.stringify(s));
    assert.equal(s.lossPercent, 0);
  }
  assert.equal(wan.unprobed, undefined);
});

test('IPv4-bound uplink without an IPv6 address: the IPv6 target is set aside and named, never counted as a loss', async (t) => {
  const [v4, v6] = [await listener('127.0.0.1'), await listener('::1')];
  t.after(() => [v4, v6].forEach((l) => l.server.close()));
  const v6Target = `tcp://[::1]:${v6.port}`;
  const { samples, wan } = await lightSamples({ sourceAddress: '127.0.0.1' }, [`tcp://127.0.0.1:${v4.port}`, v6Target], 3);
  for (const s of samples) {
    assert.equal(s.targetsTotal, 1, 'quorum over the targets this uplink can probe');
    assert.equal(s.targetsUp, 1);
    assert.equal(s.lossPercent, 0, 'binding IPv6 to 127.0.0.1 (EINVAL) is not loss on the link');
    assert.equal(s.reachable, true);
  }
  const note = samples.at(-1)!.notes?.find((n) => n.code === 'target_unprobed');
  assert.ok(note, 'a measurement note, so `linkward status` and the page say it');
  assert.match(note.message, new RegExp(`probe target ${v6Target.replace(/[.[\]]/g, '\\$&')} is not probed through this uplink: .*sourceAddress6`));
  assert.equal(wan.unprobed?.length, 1);
  assert.match(wan.unprobed![0]!, new RegExp(`^${v6Target.replace(/[.[\]]/g, '\\$&')}: .*set uplinks\\[\\]\\.sourceAddress6`));
});

test('only IPv6 targets and no IPv6 address: the round fails as a whole with what to do (no silent unbound probe)', async (t) => {
  const v6 = await listener('::1');
  t.after(() => v6.server.close());
  const { samples, wan } = await lightSamples({ sourceAddress: '127.0.0.1' }, [`tcp://[::1]:${v6.port}`], 2);
  assert.equal(samples.at(-1)!.targetsUp, 0);
  assert.match(wan.error ?? '', /cannot reach IPv6 targets; set uplinks\[\]\.sourceAddress6/);
});
