/** Real Prometheus remote-write receiver: an old sample mixed into fresh ones is bisected out; only it is dead-lettered. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createBufferComponent } from '../../../buffer/component.ts';
import { realBufferDeps } from '../../../buffer/adapters.ts';
import { encodeWriteRequest } from '../../../buffer/remote-write.ts';
import { bufferContext } from '../../support/buffer-context.ts';
import { PrometheusReceiver, requirePrometheus } from '../../support/buffer-prometheus.ts';

/** Fresh samples before and after the old one (the case: 100 + 1 + 100). */
const FRESH_EACH_SIDE = 100;
/** Age of the old sample: well past Prometheus' head window (about 1 h behind its newest sample). */
const OLD_AGE_MS = 3 * 3_600_000;
/** Bound on each wait loop. */
const WAIT_MS = 30_000;

async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + WAIT_MS;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

const sample = (name: string, ts: number, value: number) =>
  encodeWriteRequest([{ labels: { __name__: name, job: 'bisect' }, samples: [{ value, timestampMs: ts }] }]);

describe('Prometheus (Debian, --web.enable-remote-write-receiver) as the upstream', () => {
  it('bisects a refused batch: the old sample alone is dead-lettered (out of bounds), all fresh ones are queryable; replay re-splits and counts records', async () => {
    requirePrometheus();
    const prom = new PrometheusReceiver();
    await prom.start();
    const t = bufferContext({
      sinks: [{ name: 'prom', url: prom.writeUrl, protocol: 'prometheus-remote-write', priority: 'high' }],
      buffer: { retry: { baseMs: 50, capMs: 500 }, flush: { pollMs: 100 } },
    });
    const comp = createBufferComponent(t.ctx, realBufferDeps(t.ctx));
    try {
      await comp.start();
      const svc = comp.service;
      const now = Date.now();
      // Warm-up: the head block starts at a fresh time, as on any running Prometheus.
      await svc.appendBody('prom', sample('lw_warmup', now - 1000, 1), { contentType: 'application/x-protobuf' });
      await until(() => svc.store!.usage().records === 0, 'warm-up delivered');
      const t0 = now - 2 * FRESH_EACH_SIDE * 1000;
      const bodies: Buffer[] = [];
      for (let i = 0; i < FRESH_EACH_SIDE; i++) bodies.push(sample('lw_bisect', t0 + i * 1000, i));
      bodies.push(sample('lw_bisect_old', now - OLD_AGE_MS, -1));
      for (let i = FRESH_EACH_SIDE; i < 2 * FRESH_EACH_SIDE; i++) bodies.push(sample('lw_bisect', t0 + i * 1000, i));
      // One tick: one group commit, so the forwarder seals all 201 records into one request.
      await Promise.all(bodies.map((b) => svc.appendBody('prom', b, { contentType: 'application/x-protobuf' })));
      await until(() => svc.store!.usage().records === 0, 'backlog settled');
      const dead = svc.store!.listDeadLetters(10);
      assert.equal(dead.length, 1, JSON.stringify(dead.map((d) => [d.recordCount, d.reason])));
      assert.equal(dead[0]!.recordCount, 1);
      assert.equal(dead[0]!.status, 400);
      assert.match(dead[0]!.reason, /^sample older than the upstream accepts \(out of bounds\) \(HTTP 400: .*out of bounds/);
      assert.doesNotMatch(dead[0]!.reason, /\n/);
      const got = await prom.samples('lw_bisect{job="bisect"}', '4h');
      assert.equal(got.size, 2 * FRESH_EACH_SIDE, 'every fresh sample is queryable');
      for (let i = 0; i < 2 * FRESH_EACH_SIDE; i++) assert.equal(got.get(t0 + i * 1000), i, `sample ${i}`);
      const metrics = await t.ctx.metrics.metrics();
      assert.match(metrics, /linkward_buffer_dropped_records_total\{sink="prom",reason="dead_letter"\} 1\n/);
      assert.match(metrics, /linkward_buffer_sent_records_total\{sink="prom"\} 201\n/);
      // 1 warm-up + the bisection: about 2·log2(201) requests, never one per record.
      const sends = [...metrics.matchAll(/linkward_buffer_sends_total\{sink="prom",status="\d+"\} (\d+)/g)].reduce((n, m) => n + Number(m[1]), 0);
      assert.ok(sends <= 1 + 2 * 2 * Math.ceil(Math.log2(201)), `${sends} requests`);
      t.ctx.log.info({ sends }, 'bisection requests');
      process.stdout.write(`# bisection: ${sends} requests for 201 records (1 warm-up)\n`);
      // Replay: the dead letter goes back as the record(s) it held, is refused again, and counts 1 record again.
      const r = svc.replay(null, Date.now());
      assert.deepEqual(r, { deadLetters: 1, records: 1 });
      await until(() => svc.store!.usage().records === 0 && svc.store!.deadLetterCount() === 1, 'replayed dead letter refused again');
      assert.equal(svc.store!.listDeadLetters(1)[0]!.recordCount, 1);
      assert.match(await t.ctx.metrics.metrics(), /linkward_buffer_dropped_records_total\{sink="prom",reason="dead_letter"\} 2\n/);
      assert.equal(await prom.scalar('count_over_time(lw_bisect_old[24h])'), null, 'the old sample never landed');
    } finally {
      await comp.stop();
      await prom.stop();
      t.cleanup();
    }
  });
});
