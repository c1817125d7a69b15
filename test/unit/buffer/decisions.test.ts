/** Pure decisions: flush gate, backoff with full jitter, Retry-After, pacing, admission bounds, protocol verdicts, backlog age. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { LinkHealth, LinkSnapshot } from '../../../agent/core/types.ts';
import { flushGate } from '../../../buffer/gate.ts';
import { fullJitterMs, nextDelayMs, parseRetryAfterMs } from '../../../buffer/backoff.ts';
import { paceDelay, pacedBatchBytes, paceRateBytesPerSec, wireBytes } from '../../../buffer/pacer.ts';
import { admit } from '../../../buffer/bounds.ts';
import { classify } from '../../../buffer/protocols.ts';
import { acceptWindowSeconds, backlogWarnings } from '../../../buffer/backlog-age.ts';
import { SinkSchema } from '../../../agent/config/buffer.ts';

const snap = (node: LinkHealth, uploadMbps?: number, active = 'wan'): LinkSnapshot => ({
  atMs: 1,
  node,
  active,
  uplinks: { [active]: { name: active, health: node, sinceMs: 1, reasons: [], latest: { atMs: 1, ...(uploadMbps !== undefined ? { uploadMbps } : {}) } } },
});
const gate = (link: LinkSnapshot | null, metered: string[] = []) => flushGate({ link, metered: new Set(metered), meteredHighOnly: true, paceFraction: 0.5 });

describe('flush gate', () => {
  it('maps link health to modes and allowed classes', () => {
    assert.deepEqual([gate(snap('healthy')).mode, gate(snap('healthy')).maxPriority], ['drain', 2]);
    assert.deepEqual([gate(snap('degraded')).mode, gate(snap('degraded')).maxPriority], ['high-only', 0]);
    assert.deepEqual([gate(snap('down')).mode, gate(snap('down')).maxPriority], ['canary', 2]);
  });
  it('drains with backoff when the link is unknown or no snapshot exists (no probes configured)', () => {
    assert.equal(gate(null).mode, 'drain');
    assert.equal(gate(snap('unknown')).mode, 'drain');
    assert.equal(gate(null).rateBps, null);
  });
  it('paces to the configured fraction of the active uplink upload bandwidth', () => {
    assert.equal(gate(snap('healthy', 8)).rateBps, 500_000);
  });
  it('a metered active uplink allows only the high class', () => {
    const g = gate(snap('healthy', 8, 'lte'), ['lte']);
    assert.equal(g.maxPriority, 0);
    assert.equal(g.mode, 'high-only');
    assert.equal(gate(snap('healthy', 8, 'wan'), ['lte']).maxPriority, 2);
  });
});

describe('backoff', () => {
  it('full jitter is uniform below min(cap, base·2^n)', () => {
    assert.equal(fullJitterMs(0, 1000, 60_000, 0.999), 999);
    assert.equal(fullJitterMs(3, 1000, 60_000, 0.5), 4000);
    assert.equal(fullJitterMs(20, 1000, 60_000, 0.5), 30_000);
    assert.equal(fullJitterMs(5, 1000, 60_000, 0), 0);
  });
  it('Retry-After (seconds or HTTP date) wins and is capped', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    assert.equal(parseRetryAfterMs('7', now, 60_000), 7000);
    assert.equal(parseRetryAfterMs('Thu, 01 Jan 2026 00:00:30 GMT', now, 60_000), 30_000);
    assert.equal(parseRetryAfterMs('3600', now, 60_000), 60_000);
    assert.equal(parseRetryAfterMs('soon', now, 60_000), null);
    assert.equal(parseRetryAfterMs(undefined, now, 60_000), null);
    assert.equal(nextDelayMs(4, 2500, 1000, 60_000, 0.9), 2500);
    assert.equal(nextDelayMs(1, null, 1000, 60_000, 0.5), 1000);
  });
});

describe('pacer', () => {
  it('converts Mbit/s to bytes/s and is unpaced without a measurement', () => {
    assert.equal(paceRateBytesPerSec(10, 0.5), 625_000);
    assert.equal(paceRateBytesPerSec(undefined, 0.5), null);
    assert.equal(paceRateBytesPerSec(0, 0.5), null);
    assert.equal(paceDelay({ tokens: 0, atMs: 0 }, 1e9, null, 5).waitMs, 0);
  });
  it('sends a burst, then waits bytes/rate', () => {
    let st = { tokens: 0, atMs: 0 };
    const a = paceDelay(st, 1000, 1000, 1000); // 1 s of refill = 1000 tokens
    assert.equal(a.waitMs, 0);
    st = a.state;
    const b = paceDelay(st, 500, 1000, 1000);
    assert.equal(b.waitMs, 500);
    const c = paceDelay(b.state, 500, 1000, 1500);
    assert.equal(c.waitMs, 0);
  });
  it('a flush of paced batches never puts more than 1.1 × the rate on the wire in any 1-second window', () => {
    for (const rate of [1_000, 30_000, 120_000, 1_250_000]) {
      const max = pacedBatchBytes(rate);
      assert.ok(wireBytes(max) <= rate * 0.05 + 1 || max === 1024, `batch ${max} at ${rate} B/s`);
      let st = { tokens: 0, atMs: 0 };
      let now = 10_000; // after idle: the bucket is full
      const sends: [number, number][] = [];
      for (let i = 0; i < 2_000; i++) {
        const bytes = wireBytes(max);
        const p = paceDelay(st, bytes, rate, now);
        if (p.waitMs > 0) {
          st = p.state;
          now += p.waitMs;
          i--;
          continue;
        }
        st = p.state;
        sends.push([now, bytes]);
        now += 5; // the request itself
      }
      let worst = 0;
      for (const [t0] of sends)
        worst = Math.max(
          worst,
          sends.filter(([t]) => t >= t0 && t < t0 + 1000).reduce((n, [, b]) => n + b, 0),
        );
      assert.ok(worst <= 1.1 * Math.max(rate, wireBytes(1024)), `rate ${rate}: worst second ${worst}`);
    }
    assert.equal(pacedBatchBytes(null), Number.POSITIVE_INFINITY);
  });
});

describe('admission bounds', () => {
  it('drop-oldest accepts and asks to evict the overflow', () => {
    assert.deepEqual(admit({ records: 10, bytes: 900 }, [100, 100], { maxBytes: 1000, maxRecords: null, policy: 'drop-oldest' }), {
      accept: 2,
      freeBytes: 100,
      freeRecords: 0,
    });
    assert.deepEqual(admit({ records: 10, bytes: 0 }, [1, 1], { maxBytes: 1000, maxRecords: 11, policy: 'drop-oldest' }), {
      accept: 2,
      freeBytes: 0,
      freeRecords: 1,
    });
  });
  it('reject-new accepts only what fits', () => {
    assert.deepEqual(admit({ records: 0, bytes: 900 }, [50, 50, 50], { maxBytes: 1000, maxRecords: null, policy: 'reject-new' }), {
      accept: 2,
      freeBytes: 0,
      freeRecords: 0,
    });
    assert.deepEqual(admit({ records: 5, bytes: 0 }, [1, 1], { maxBytes: 1000, maxRecords: 6, policy: 'reject-new' }), {
      accept: 1,
      freeBytes: 0,
      freeRecords: 0,
    });
  });
});

describe('protocol verdicts', () => {
  const table: [Parameters<typeof classify>[0], number | null, string][] = [
    ['otlp-http', 200, 'ok'],
    ['otlp-http', 429, 'retry'],
    ['otlp-http', 502, 'retry'],
    ['otlp-http', 503, 'retry'],
    ['otlp-http', 504, 'retry'],
    ['otlp-http', 500, 'dead'],
    ['otlp-http', 400, 'dead'],
    ['otlp-http', 413, 'split'],
    ['otlp-http', null, 'retry'],
    ['prometheus-remote-write', 500, 'retry'],
    ['prometheus-remote-write', 429, 'retry'],
    ['prometheus-remote-write', 400, 'dead'],
    ['prometheus-remote-write', 204, 'ok'],
    ['loki', 503, 'retry'],
    ['loki', 400, 'dead'],
    ['influx-line', 422, 'dead'],
    ['influx-line', 503, 'retry'],
    ['ndjson', 408, 'retry'],
    ['raw', 404, 'dead'],
    ['raw', 301, 'dead'],
  ];
  for (const [p, s, v] of table) it(`${p} ${s} → ${v}`, () => assert.equal(classify(p, s), v));
});

describe('backlog age against the upstream acceptance window', () => {
  const sinks = new Map([
    ['prom', SinkSchema.parse({ name: 'prom', url: 'http://x/', protocol: 'prometheus-remote-write' })],
    ['logs', SinkSchema.parse({ name: 'logs', url: 'http://x/', protocol: 'ndjson' })],
    ['vm', SinkSchema.parse({ name: 'vm', url: 'http://x/', protocol: 'prometheus-remote-write', acceptWindowSeconds: 0 })],
  ]);
  const lane = (sink: string, ageS: number) => ({ sink, priority: 1, records: 5, bytes: 50, oldestMs: 10_000_000 - ageS * 1000 });
  it('warns from 75 % of the window, says when it is past, and stays quiet for sinks without one', () => {
    const w = backlogWarnings([lane('prom', 2000), lane('prom', 2700), lane('prom', 3700), lane('logs', 99_999), lane('vm', 99_999)], sinks, 10_000_000);
    assert.deepEqual(
      w.map((x) => [x.oldestAgeSeconds, x.level]),
      [
        [2700, 'near'],
        [3700, 'past'],
      ],
    );
    assert.match(w[0]!.message, /sink prom \(normal\): oldest record is 45 min old; its upstream refuses data older than 60 min/);
    assert.match(w[1]!.message, /past the 60 min its upstream accepts; such records end as dead letters/);
    assert.equal(acceptWindowSeconds(sinks.get('logs')!), 0);
  });
});
