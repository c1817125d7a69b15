/** Integration: an uplink's IPv6 targets are probed from its IPv6 address; without one they are set aside, not counted as loss. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server } from 'node:net';
import type { NetworkInterfaceInfo } from 'node:os';
import { systemRunner } from '../../../agent/base/exec.ts';
import { effectiveUplinks } from '../../../agent/config/uplinks.ts';
import type { ProbeSample } from '../../../agent/core/types.ts';
import { SETTLE_ROUNDS } from '../../../probes/adaptive.ts';
import { createProbeMetrics } from '../../../probes/metrics.ts';
import type { InterfaceTable } from '../../../probes/source.ts';
import { ProbeStore } from '../../../probes/store.ts';
import { parseTargets } from '../../../probes/targets.ts';
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

/** A monitor over `targets` whose interface table the test changes between rounds (an address comes or goes). */
async function monitorWithTable(targets: string[], table: InterfaceTable) {
  const { UplinkMonitor } = await import('../../../probes/uplink-monitor.ts');
  const ctx = probesTestContext({ probes: { targets, intervalMs: 500, timeoutMs: 400 }, uplinks: { list: [{ name: 'wan', interface: 'lab0' }] } });
  const m = new UplinkMonitor({
    uplink: effectiveUplinks(ctx.config.uplinks)[0]!,
    targets: parseTargets(targets),
    cfg: ctx.config.probes,
    clock: ctx.clock,
    log: ctx.log,
    store: new ProbeStore(ctx.stateDb),
    metrics: createProbeMetrics(ctx.metrics),
    runner: systemRunner,
    random: () => 0.5,
    emit: () => undefined,
    interfaces: () => table,
    counters: async () => new Map(),
    facts: async () => ({ operstate: 'up', carrier: true }),
  });
  return { m, registry: ctx.metrics, close: () => ctx.stateDb.close() };
}

const addr = (address: string, family: 'IPv4' | 'IPv6'): NetworkInterfaceInfo =>
  family === 'IPv4'
    ? { address, family, internal: false, netmask: '', mac: '', cidr: null }
    : { address, family, internal: false, netmask: '', mac: '', cidr: null, scopeid: 0 };

test('an IPv6 address arriving on a settled uplink: every target is probed in the next round, none counts as down unasked', async (t) => {
  const ls = [await listener('127.0.0.1'), await listener('127.0.0.1'), await listener('::1'), await listener('::1')];
  t.after(() => ls.forEach((l) => l.server.close()));
  const targets = [`tcp://127.0.0.1:${ls[0]!.port}`, `tcp://127.0.0.1:${ls[1]!.port}`, `tcp://[::1]:${ls[2]!.port}`, `tcp://[::1]:${ls[3]!.port}`];
  const table: InterfaceTable = { lab0: [addr('127.0.0.1', 'IPv4')] };
  const { m, close } = await monitorWithTable(targets, table);
  t.after(close);
  let s: ProbeSample | undefined;
  for (let i = 0; i < 2 * SETTLE_ROUNDS; i++) s = await m.lightRound(); // settled: one target per round from here
  assert.equal(s!.targetsTotal, 2);
  table.lab0!.push(addr('::1', 'IPv6')); // SLAAC finished
  s = await m.lightRound();
  assert.equal(s.targetsTotal, 4);
  assert.equal(s.targetsUp, 4, 'the two IPv6 targets were probed at once, not left as unknown');
  assert.equal(s.reachable, true);
});

test('a dual-stack uplink that loses its IPv4 address fails its rounds as before: IPv6 targets alone do not carry it', async (t) => {
  const ls = [await listener('127.0.0.1'), await listener('::1')];
  t.after(() => ls.forEach((l) => l.server.close()));
  const table: InterfaceTable = { lab0: [addr('::1', 'IPv6')] };
  const { m, close } = await monitorWithTable([`tcp://127.0.0.1:${ls[0]!.port}`, `tcp://[::1]:${ls[1]!.port}`], table);
  t.after(close);
  const s = await m.lightRound();
  assert.equal(s.targetsUp, 0);
  assert.equal(s.reachable, false, 'linkward routes an uplink by IPv4: without it the uplink carries nothing');
  assert.match(m.lastError() ?? '', /lab0 has no IPv4 address/);
  assert.equal(
    s.notes?.some((n) => n.code === 'target_unprobed'),
    false,
    'a link fault, not a measurement note',
  );
});

test('an IPv6 address leaving: the state series of the set-aside target are removed, not frozen at their last value', async (t) => {
  const ls = [await listener('127.0.0.1'), await listener('::1')];
  t.after(() => ls.forEach((l) => l.server.close()));
  const v6 = `tcp://[::1]:${ls[1]!.port}`;
  const table: InterfaceTable = { lab0: [addr('127.0.0.1', 'IPv4'), addr('::1', 'IPv6')] };
  const { m, registry, close } = await monitorWithTable([`tcp://127.0.0.1:${ls[0]!.port}`, v6], table);
  t.after(close);
  const series = async (target: string) =>
    (await registry.getSingleMetric('linkward_probes_target_state')!.get()).values.filter((v) => v.labels.target === target);
  assert.equal((await m.lightRound()).targetsUp, 2);
  const id = (await registry.getSingleMetric('linkward_probes_target_state')!.get()).values.find((v) => String(v.labels.target).includes('::1'))?.labels
    .target as string;
  assert.ok(id, 'the IPv6 target has state series while it is probed');
  assert.deepEqual((await series(id)).find((v) => v.value === 1)?.labels.state, 'ok');
  table.lab0!.pop(); // the IPv6 address went away
  const s = await m.lightRound();
  assert.equal(s.targetsTotal, 1);
  assert.deepEqual(await series(id), [], 'no series left that says "ok" about a target nobody probes');
});
