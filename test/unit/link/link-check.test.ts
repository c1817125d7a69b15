/** Tests of the /readyz/link check (narrowing, max-age, uplink choice), its query parsing, and CLI duration parsing. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LinkSnapshot } from '../../../agent/core/types.ts';
import { checkLink, checkQueryString, parseCheckQuery } from '../../../agent/core/link-check.ts';
import { nonNegative, parseDuration, queryFromOptions, reached } from '../../../agent/cli/link.ts';
import { T0 } from '../../support/link-samples.ts';

const snap: LinkSnapshot = {
  atMs: T0 + 1_000,
  node: 'healthy',
  active: 'wan',
  uplinks: {
    wan: { name: 'wan', health: 'healthy', sinceMs: T0, reasons: [], latest: { atMs: T0, rttP95Ms: 40, lossPercent: 0.5, downloadMbps: 20, uploadMbps: 4 } },
    lte: { name: 'lte', health: 'degraded', sinceMs: T0, reasons: ['rtt_p95=412ms>250'], latest: { atMs: T0, rttP95Ms: 412 } },
  },
};

const CASES: { name: string; query: Record<string, string>; now?: number; snapshot?: LinkSnapshot | null; ok: boolean; verdict: string; reasons: string[] }[] =
  [
    { name: 'no narrowing', query: {}, ok: true, verdict: 'healthy', reasons: [] },
    {
      name: 'all narrower thresholds met',
      query: { minDown: '10', minUp: '2', maxRtt: '100', maxLoss: '1', maxAge: '60' },
      ok: true,
      verdict: 'healthy',
      reasons: [],
    },
    { name: 'download below minDown', query: { minDown: '25' }, ok: false, verdict: 'degraded', reasons: ['down=20Mbps<25'] },
    {
      name: 'several narrower thresholds fail',
      query: { minUp: '5', maxRtt: '30', maxLoss: '0.1' },
      ok: false,
      verdict: 'degraded',
      reasons: ['up=4Mbps<5', 'rtt_p95=40ms>30', 'loss=0.5%>0.1'],
    },
    { name: 'stale for maxAge', query: { maxAge: '10' }, now: T0 + 30_000, ok: false, verdict: 'unknown', reasons: ['stale: last measurement 30s ago>10'] },
    { name: 'other uplink', query: { uplink: 'lte' }, ok: false, verdict: 'degraded', reasons: ['rtt_p95=412ms>250'] },
    { name: 'narrowing on an unmeasured metric', query: { uplink: 'lte', maxLoss: '1' }, ok: false, verdict: 'degraded', reasons: ['rtt_p95=412ms>250'] },
    { name: 'unknown uplink', query: { uplink: 'sat' }, ok: false, verdict: 'unknown', reasons: ['unknown uplink "sat" (known: wan, lte)'] },
    { name: 'no snapshot yet', query: {}, snapshot: null, ok: false, verdict: 'unknown', reasons: ['link state not evaluated yet'] },
  ];

for (const c of CASES) {
  test(`check: ${c.name}`, () => {
    const { query, problems } = parseCheckQuery(new URLSearchParams(c.query));
    assert.deepEqual(problems, []);
    const r = checkLink(c.snapshot === undefined ? snap : c.snapshot, query, c.now ?? T0 + 2_000);
    assert.equal(r.ok, c.ok);
    assert.equal(r.verdict, c.verdict);
    assert.deepEqual(r.reasons, c.reasons);
  });
}

test('check: a node that is not healthy keeps its own verdict, narrowing cannot improve it', () => {
  const down: LinkSnapshot = { ...snap, node: 'down' };
  assert.equal(checkLink(down, { minDownMbps: 1 }, T0).verdict, 'down');
  const notMeasured = checkLink({ ...snap, uplinks: { wan: { ...snap.uplinks.wan!, latest: { atMs: T0 } } } }, { minDownMbps: 1 }, T0);
  assert.deepEqual(notMeasured.reasons, ['down=not measured']);
});

test('query parsing: bad values are reported per parameter; round trip through the CLI query string', () => {
  const { problems } = parseCheckQuery(new URLSearchParams('minDown=abc&maxRtt=-1&maxAge=5'));
  assert.deepEqual(problems, ['minDown=abc: must be a non-negative number', 'maxRtt=-1: must be a non-negative number']);
  const q = queryFromOptions({ minDown: 10, minUp: 2, maxRtt: 150, maxLoss: 1, maxAge: 60, uplink: 'wan' });
  assert.equal(checkQueryString(q), '?minDown=10&minUp=2&maxRtt=150&maxLoss=1&maxAge=60&uplink=wan');
  assert.deepEqual(parseCheckQuery(new URLSearchParams(checkQueryString(q).slice(1))).query, q);
  assert.equal(checkQueryString({}), '');
});

test('CLI values: durations, non-negative numbers, --until', () => {
  assert.equal(parseDuration('10m'), 600_000);
  assert.equal(parseDuration('90'), 90_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.throws(() => parseDuration('ten minutes'), /not a duration/);
  assert.throws(() => parseDuration('10x'), /not a duration/);
  assert.equal(nonNegative('2.5'), 2.5);
  assert.throws(() => nonNegative('-1'), /non-negative/);
  assert.throws(() => nonNegative(''), /non-negative/);
  assert.equal(reached('healthy', 'healthy'), true);
  assert.equal(reached('degraded', 'healthy'), false);
  assert.equal(reached('degraded', 'degraded'), true);
  assert.equal(reached('unknown', 'degraded'), false);
});
