/** Integration: every linkward_probes_* metric, with each kind of series filled in, passes the real `promtool check metrics`. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { Registry } from 'prom-client';
import { createProbeMetrics } from '../../../probes/metrics.ts';

/** promtool answers in well under a second; 20 s only trips when it hangs. */
const PROMTOOL_TIMEOUT_MS = 20_000;
const T0 = Date.UTC(2026, 11, 2, 12, 0, 0);

test('promtool check metrics accepts linkward_probes_* (loaded latency, lower bounds, void samples, target and server health)', async () => {
  const registry = new Registry();
  const m = createProbeMetrics(registry);
  m.observe({
    uplink: 'wan',
    kind: 'light',
    atMs: T0,
    rttMs: 20,
    rttP95Ms: 30,
    jitterMs: 2,
    lossPercent: 0,
    reachable: true,
    targetsUp: 3,
    targetsTotal: 3,
    bytesUsed: 400,
  });
  m.observe({
    uplink: 'wan',
    kind: 'throughput',
    atMs: T0,
    downloadMbps: 54.2,
    uploadMbps: 9.8,
    downloadLowerBound: true,
    idleRttMs: 12,
    loadedRttMs: 180,
    responsivenessRpm: 333,
    bytesUsed: 8_000_000,
  });
  m.observe({ uplink: 'wan', kind: 'light', atMs: T0, rttMs: 9_000, bytesUsed: 400, void: 'starved' });
  m.budget('wan', 3_100_000, 50_000_000, Date.UTC(2026, 11, 3));
  m.skipped('wan', 'budget');
  m.targetState('wan', '10.0.0.9:9781', 'refused');
  m.throughputFailed('wan', 'refused');
  m.throughputServerUp('wan', false);
  const text = await registry.metrics();
  const r = await new Promise<{ code: number; out: string }>((res) => {
    const child = execFile('promtool', ['check', 'metrics'], { timeout: PROMTOOL_TIMEOUT_MS }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: string | number }) | null;
      if (e?.code === 'ENOENT') return res({ code: -127, out: 'promtool not found: install the Debian package "prometheus"' });
      res({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, out: stdout + stderr });
    });
    child.stdin?.end(text);
  });
  // no lint finding at all (the throughput gauges were *_bits_per_second until promtool's bytes rule was honoured)
  assert.equal(r.code, 0, `promtool exit ${r.code}: ${r.out}`);
  assert.equal(r.out.trim(), '');
  for (const name of [
    'linkward_probes_download_bytes_per_second',
    'linkward_probes_upload_bytes_per_second',
    'linkward_probes_idle_rtt_seconds',
    'linkward_probes_loaded_rtt_seconds',
    'linkward_probes_responsiveness_rpm',
    'linkward_probes_throughput_lower_bound',
    'linkward_probes_void_samples_total',
    'linkward_probes_budget_reset_timestamp_seconds',
    'linkward_probes_target_state',
    'linkward_probes_throughput_failures_total',
    'linkward_probes_throughput_server_up',
  ]) {
    assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
  }
});
