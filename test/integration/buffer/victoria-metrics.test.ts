/** Real upstream: the agent's own probe samples go through the buffer to VictoriaMetrics; stop it, measure, start it: every sample arrives. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBufferComponent } from '../../../buffer/component.ts';
import { realBufferDeps } from '../../../buffer/adapters.ts';
import { bufferContext } from '../../support/buffer-context.ts';
import { freePort, requireVictoriaMetrics, Victoria } from '../../support/buffer-victoria.ts';

/** Samples before / during the outage. */
const BEFORE = 10;
const DURING = 40;
/** Bound on each wait loop. */
const WAIT_MS = 30_000;

async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const end = Date.now() + WAIT_MS;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('VictoriaMetrics as the real upstream', () => {
  it('keeps samples measured during an upstream outage and delivers all of them, timestamped at measurement', async () => {
    requireVictoriaMetrics();
    const vmDir = mkdtempSync(join(tmpdir(), 'buffer-vm-'));
    const vm = new Victoria(await freePort(), vmDir);
    await vm.start();
    const t = bufferContext({
      sinks: [{ name: 'vm', url: `${vm.base}/api/v1/write`, protocol: 'prometheus-remote-write', priority: 'high' }],
      buffer: { selfTelemetry: { sink: 'vm' }, retry: { baseMs: 50, capMs: 500 }, flush: { pollMs: 100, canaryIntervalMs: 1000 } },
    });
    const comp = createBufferComponent(t.ctx, realBufferDeps(t.ctx));
    try {
      await comp.start();
      const svc = comp.service;
      const t0 = Date.now() - 600_000;
      const emit = (i: number): void =>
        t.ctx.bus.emit('sample', { uplink: 'wan', kind: 'light', atMs: t0 + i * 1000, rttMs: 10 + i, lossPercent: 0, bytesUsed: 64, reachable: true });
      for (let i = 0; i < BEFORE; i++) emit(i);
      await until(() => svc.store!.usage().records === 0 && svc.committer!.pending === 0, 'first samples delivered');
      await vm.stop();
      for (let i = BEFORE; i < BEFORE + DURING; i++) emit(i);
      t.ctx.bus.emit('link', {
        atMs: t0 + 55_000,
        node: 'down',
        active: 'wan',
        uplinks: { wan: { name: 'wan', health: 'down', sinceMs: t0 + 55_000, reasons: ['test'], latest: { atMs: t0 } } },
      });
      await until(() => svc.forwarders.get('vm')!.status().attempts >= 2, 'failed sends while VictoriaMetrics is down');
      assert.ok(svc.store!.usage().records >= DURING, 'samples are held in the buffer');
      await vm.start();
      // The link state says down: only canaries go out, so tell the forwarder the link recovered.
      t.ctx.bus.emit('link', {
        atMs: t0 + 56_000,
        node: 'healthy',
        active: 'wan',
        uplinks: { wan: { name: 'wan', health: 'healthy', sinceMs: t0 + 56_000, reasons: [], latest: { atMs: t0 } } },
      });
      svc.flush(null, false);
      await until(() => svc.store!.usage().records === 0, 'backlog drained after VictoriaMetrics came back');
      let rtt = new Map<number, number>();
      await until(async () => (rtt = await vm.export('linkward_probe_rtt_milliseconds')).size >= BEFORE + DURING, 'all samples queryable');
      assert.equal(rtt.size, BEFORE + DURING);
      for (let i = 0; i < BEFORE + DURING; i++) assert.equal(rtt.get(t0 + i * 1000), 10 + i, `sample ${i}`);
      const health = await vm.export('linkward_node_health_state');
      assert.equal(health.get(t0 + 55_000), 3, 'the down transition arrived, stamped when it happened');
    } finally {
      await comp.stop();
      await vm.stop();
      t.cleanup();
      rmSync(vmDir, { recursive: true, force: true });
    }
  });
});
