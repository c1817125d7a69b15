/** ProbeMetrics on a fresh registry: loaded latency, lower bounds, void samples, budget reset, target and server health. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { createProbeMetrics } from '../../../probes/metrics.ts';
import type { ProbeSample } from '../../../agent/core/types.ts';

const T0 = Date.UTC(2026, 11, 2, 12, 0, 0);

function setup(): { m: ReturnType<typeof createProbeMetrics>; text: () => Promise<string> } {
  const registry = new Registry();
  return { m: createProbeMetrics(registry), text: () => registry.metrics() };
}

/** The value of one series in the exposition text (undefined when the series is absent). */
function value(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

function light(extra: Partial<ProbeSample> = {}): ProbeSample {
  return { uplink: 'wan', kind: 'light', atMs: T0, rttMs: 20, lossPercent: 0, reachable: true, targetsUp: 3, targetsTotal: 3, bytesUsed: 400, ...extra };
}

function throughput(extra: Partial<ProbeSample> = {}): ProbeSample {
  return {
    uplink: 'wan',
    kind: 'throughput',
    atMs: T0,
    downloadMbps: 54.2,
    uploadMbps: 9.8,
    idleRttMs: 12,
    loadedRttMs: 180,
    responsivenessRpm: 333.3,
    bytesUsed: 8_000_000,
    ...extra,
  };
}

test('a throughput sample sets idle and loaded RTT (seconds), responsiveness and the lower-bound flag per direction', async () => {
  const { m, text } = setup();
  m.observe(throughput({ downloadLowerBound: true }));
  const t = await text();
  assert.equal(value(t, 'linkward_probes_idle_rtt_seconds{uplink="wan"}'), 0.012);
  assert.equal(value(t, 'linkward_probes_loaded_rtt_seconds{uplink="wan"}'), 0.18);
  assert.equal(value(t, 'linkward_probes_responsiveness_rpm{uplink="wan"}'), 333.3);
  assert.equal(value(t, 'linkward_probes_throughput_lower_bound{uplink="wan",direction="download"}'), 1);
  assert.equal(value(t, 'linkward_probes_throughput_lower_bound{uplink="wan",direction="upload"}'), 0);
  assert.equal(value(t, 'linkward_probes_download_bytes_per_second{uplink="wan"}'), 54.2e6 / 8);
});

test('the lower-bound flag follows the last figure: a settled test clears it', async () => {
  const { m, text } = setup();
  m.observe(throughput({ downloadLowerBound: true, uploadLowerBound: true }));
  m.observe(throughput({ uploadMbps: undefined }));
  const t = await text();
  assert.equal(value(t, 'linkward_probes_throughput_lower_bound{uplink="wan",direction="download"}'), 0);
  assert.equal(
    value(t, 'linkward_probes_throughput_lower_bound{uplink="wan",direction="upload"}'),
    1,
    'no upload figure in the second test: the flag of the figure still shown stays',
  );
});

test('passive rates never touch the lower-bound flag (traffic seen, not a test result)', async () => {
  const { m, text } = setup();
  m.observe({ uplink: 'wan', kind: 'passive', atMs: T0, downloadMbps: 3, uploadMbps: 1, bytesUsed: 0 });
  assert.doesNotMatch(await text(), /linkward_probes_throughput_lower_bound\{/);
});

test('a void sample counts its round, bytes and reason but moves no measurement gauge', async () => {
  const { m, text } = setup();
  m.observe(light());
  m.observe(throughput());
  m.observe(light({ rttMs: 37_000, lossPercent: 60, reachable: false, targetsUp: 0, void: 'starved' }));
  m.observe(throughput({ downloadMbps: 0.06, uploadMbps: 0.1, loadedRttMs: 9_000, responsivenessRpm: 6.7, downloadLowerBound: true, void: 'cpu_bound' }));
  const t = await text();
  assert.equal(value(t, 'linkward_probes_rtt_seconds{uplink="wan"}'), 0.02);
  assert.equal(value(t, 'linkward_probes_loss_ratio{uplink="wan"}'), 0);
  assert.equal(value(t, 'linkward_probes_reachable{uplink="wan"}'), 1);
  assert.equal(value(t, 'linkward_probes_targets_up{uplink="wan"}'), 3);
  assert.equal(value(t, 'linkward_probes_download_bytes_per_second{uplink="wan"}'), 54.2e6 / 8);
  assert.equal(value(t, 'linkward_probes_upload_bytes_per_second{uplink="wan"}'), 9.8e6 / 8);
  assert.equal(value(t, 'linkward_probes_loaded_rtt_seconds{uplink="wan"}'), 0.18);
  assert.equal(value(t, 'linkward_probes_responsiveness_rpm{uplink="wan"}'), 333.3);
  assert.equal(value(t, 'linkward_probes_throughput_lower_bound{uplink="wan",direction="download"}'), 0);
  assert.equal(value(t, 'linkward_probes_void_samples_total{uplink="wan",kind="light",reason="starved"}'), 1);
  assert.equal(value(t, 'linkward_probes_void_samples_total{uplink="wan",kind="throughput",reason="cpu_bound"}'), 1);
  assert.equal(value(t, 'linkward_probes_rounds_total{uplink="wan",kind="light"}'), 2);
  assert.equal(value(t, 'linkward_probes_rounds_total{uplink="wan",kind="throughput"}'), 2);
  assert.equal(value(t, 'linkward_probes_bytes_total{uplink="wan",kind="throughput"}'), 16_000_000, 'bytes of a void test were still spent');
});

test('budget: remaining, total and the reset time in seconds since the epoch', async () => {
  const { m, text } = setup();
  m.budget('lte', 3_100_000, 50_000_000, Date.UTC(2026, 11, 3));
  m.budget('wan', 10, 20);
  const t = await text();
  assert.equal(value(t, 'linkward_probes_budget_remaining_bytes{uplink="lte"}'), 3_100_000);
  assert.equal(value(t, 'linkward_probes_budget_bytes{uplink="lte"}'), 50_000_000);
  assert.equal(value(t, 'linkward_probes_budget_reset_timestamp_seconds{uplink="lte"}'), Date.UTC(2026, 11, 3) / 1000);
  assert.equal(value(t, 'linkward_probes_budget_reset_timestamp_seconds{uplink="wan"}'), undefined, 'no reset time given: no series');
});

test('target state is an enum gauge: 1 on the current state, 0 on the others, per target', async () => {
  const { m, text } = setup();
  m.targetState('wan', '10.0.0.9:9781', 'ok');
  m.targetState('wan', '10.0.0.9:9781', 'refused');
  m.targetState('wan', '1.1.1.1', 'silent');
  const t = await text();
  assert.equal(value(t, 'linkward_probes_target_state{uplink="wan",target="10.0.0.9:9781",state="ok"}'), 0);
  assert.equal(value(t, 'linkward_probes_target_state{uplink="wan",target="10.0.0.9:9781",state="refused"}'), 1);
  assert.equal(value(t, 'linkward_probes_target_state{uplink="wan",target="10.0.0.9:9781",state="silent"}'), 0);
  assert.equal(value(t, 'linkward_probes_target_state{uplink="wan",target="1.1.1.1",state="silent"}'), 1);
  assert.equal(value(t, 'linkward_probes_target_state{uplink="wan",target="1.1.1.1",state="ok"}'), 0);
});

test('throughput failures count by reason; the server-up gauge follows the last test', async () => {
  const { m, text } = setup();
  m.throughputFailed('wan', 'refused');
  m.throughputFailed('wan', 'refused');
  m.throughputFailed('wan', 'http_5xx');
  m.throughputServerUp('wan', false);
  let t = await text();
  assert.equal(value(t, 'linkward_probes_throughput_failures_total{uplink="wan",reason="refused"}'), 2);
  assert.equal(value(t, 'linkward_probes_throughput_failures_total{uplink="wan",reason="http_5xx"}'), 1);
  assert.equal(value(t, 'linkward_probes_throughput_server_up{uplink="wan"}'), 0);
  m.throughputServerUp('wan', true);
  t = await text();
  assert.equal(value(t, 'linkward_probes_throughput_server_up{uplink="wan"}'), 1);
});

test('voided: a throughput figure kept only as a lower bound is counted by its reason', async () => {
  const { m, text } = setup();
  m.voided('wan', 'throughput', 'unconfirmed');
  assert.equal(value(await text(), 'linkward_probes_void_samples_total{uplink="wan",kind="throughput",reason="unconfirmed"}'), 1);
});
