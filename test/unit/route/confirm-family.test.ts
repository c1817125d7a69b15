/** Per-family commit-confirm: a dual-stack switch needs a target of each family it moved; targets of other families are skipped. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Clock } from '../../../agent/base/clock.ts';
import { CONFIRM_ATTEMPT_TIMEOUT_MS, confirmGroups, confirmReachable, endpointFamily, parseEndpoint, type Endpoint } from '../../../agent/route/confirm.ts';

const ep = (text: string): Endpoint => parseEndpoint(text)!;
const V4 = ep('10.0.0.1:6443');
const V4B = ep('10.0.0.2:6443');
const V6 = ep('[2001:db8::1]:443');
const NAME = ep('api.example:6443');

/** Time moves only when a connect attempt takes it (a timeout spends its whole allowance) or the confirm sleeps. */
function simulated(up: ReadonlySet<string>) {
  let mono = 0;
  const tried: string[] = [];
  const clock: Clock = {
    nowMs: () => 1_700_000_000_000 + mono,
    monoMs: () => mono,
    sleep: async (ms) => {
      mono += ms;
    },
    setTimer: () => () => undefined,
  };
  const connector = async (e: Endpoint, timeoutMs: number): Promise<boolean> => {
    tried.push(e.host);
    const ok = up.has(e.host);
    mono += ok ? 5 : timeoutMs;
    return ok;
  };
  return { clock, connector, tried };
}

test('groups: one per moved family with address targets; other families skipped; host names for a family left without one', () => {
  const shape = (families: (4 | 6)[], targets: Endpoint[]) => confirmGroups(targets, families).map((g) => [g.family, g.targets.map((t) => t.host)]);
  assert.deepEqual(shape([4, 6], [V4, V6, NAME]), [
    [4, ['10.0.0.1']],
    [6, ['2001:db8::1']],
  ]);
  assert.deepEqual(
    shape([4], [V4, V6]),
    [[4, ['10.0.0.1']]],
    'an IPv4-only switch does not look at IPv6 targets (they would go out the host IPv6 route, not the new uplink)',
  );
  assert.deepEqual(shape([4], [NAME, V6]), [[null, ['api.example']]]);
  assert.deepEqual(
    shape([4, 6], [NAME, V6]),
    [
      [6, ['2001:db8::1']],
      [null, ['api.example']],
    ],
    'IPv4 has no address target: the names must answer too, or IPv6 alone would confirm',
  );
  assert.deepEqual(confirmGroups([V6], [4]), []);
});

test('an IPv4-mapped IPv6 target counts as IPv4: it cannot confirm that IPv6 works on the new uplink', () => {
  for (const t of ['[::ffff:10.0.0.1]:443', 'https://[::ffff:10.0.0.1]/', 'tcp://[::ffff:a00:1]:443']) assert.equal(endpointFamily(ep(t)), 4, t);
  const groups = confirmGroups([ep('[::ffff:10.0.0.1]:443'), ep('[2001:db8::1]:443')], [4, 6]);
  assert.deepEqual(
    groups.map((g) => [g.family, g.targets.map((x) => x.host)]),
    [
      [4, ['10.0.0.1']],
      [6, ['2001:db8::1']],
    ],
  );
});

test('a dual-stack switch whose IPv6 is broken on the new uplink is not confirmed by IPv4 alone', async () => {
  const sim = simulated(new Set(['10.0.0.1']));
  const r = await confirmReachable([V4, V6], 3_000, sim.clock, sim.connector, [4, 6]);
  assert.equal(r.ok, false);
  assert.match(r.detail, /^not every family reached within 3000 ms/);
  assert.match(r.detail, /10\.0\.0\.1:6443 \(IPv4\)/, 'says what was reached');
  assert.match(r.detail, /IPv6: \[2001:db8::1\]:443 did not answer/, 'and which family failed');
  assert.ok(r.ms <= 3_000, `gave up by the deadline (${r.ms} ms)`);
  assert.equal(sim.tried.filter((h) => h === '10.0.0.1').length, 1, 'a reached family is not tried again');
});

test('both families reached: confirmed, each named', async () => {
  const sim = simulated(new Set(['10.0.0.2', '2001:db8::1']));
  const r = await confirmReachable([V4, V4B, V6], 5_000, sim.clock, sim.connector, [4, 6]);
  assert.equal(r.ok, true, r.detail);
  assert.equal(r.detail, '10.0.0.2:6443 (IPv4), [2001:db8::1]:443 (IPv6)');
  assert.equal(r.ms, CONFIRM_ATTEMPT_TIMEOUT_MS + 10, 'one failed attempt, then one success per family');
});

test('IPv4-only switch: an IPv6 target is not tried; as before, the first IPv4 target that answers confirms', async () => {
  const sim = simulated(new Set(['2001:db8::1', '10.0.0.2']));
  const r = await confirmReachable([V6, V4, V4B], 5_000, sim.clock, sim.connector, [4]);
  assert.equal(r.ok, true);
  assert.equal(r.detail, '10.0.0.2:6443');
  assert.deepEqual(sim.tried, ['10.0.0.1', '10.0.0.2']);
});

test('only targets of families the switch did not move: refused at once with what to do', async () => {
  const sim = simulated(new Set(['2001:db8::1']));
  const r = await confirmReachable([V6], 5_000, sim.clock, sim.connector, [4]);
  assert.equal(r.ok, false);
  assert.equal(r.ms, 0);
  assert.match(r.detail, /no confirm target of a family this switch moved \(IPv4\): add one to uplinks\.policy\.confirmTargets/);
  assert.deepEqual(sim.tried, []);
});

test('host names alone: any one reached confirms, whatever the families moved', async () => {
  const sim = simulated(new Set(['api.example']));
  const r = await confirmReachable([NAME], 5_000, sim.clock, sim.connector, [4, 6]);
  assert.equal(r.ok, true);
  assert.equal(r.detail, 'api.example:6443');
});
