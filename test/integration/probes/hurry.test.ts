/** Integration: a failed round of the active uplink brings the other uplinks' next light round forward (the failover's fresh evidence). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LinkSnapshot, ProbeSample } from '../../../agent/core/types.ts';
import { createProbesComponent } from '../../../probes/component.ts';
import { realProbesDeps } from '../../../probes/adapters.ts';
import { startProbeServer } from '../../../probes/server.ts';
import { probesTestContext } from '../../support/probes-context.ts';

/** Base interval: long enough that an lte round following each wan failure by chance would be rare. */
const INTERVAL_MS = 4_000;
const TIMEOUT_MS = 300;

for (const active of ['wan', 'lte'] as const) {
  test(`wan's rounds get no answer while ${active} is active: lte ${active === 'wan' ? 'probes right after each' : 'keeps its own pace'}`, async () => {
    const srv = await startProbeServer({ host: '127.0.0.1', port: 0 });
    // udp://127.0.0.1:9 (discard) never echoes: every wan round fails; lte probes the live server
    const ctx = probesTestContext({
      probes: { targets: [`udp://127.0.0.1:${srv.port}`], intervalMs: INTERVAL_MS, maxIntervalMs: INTERVAL_MS, timeoutMs: TIMEOUT_MS },
      uplinks: {
        list: [
          { name: 'wan', targets: ['udp://127.0.0.1:9'] },
          { name: 'lte', targets: [`udp://127.0.0.1:${srv.port}`] },
        ],
      },
    });
    const snapshot: LinkSnapshot = { atMs: Date.now(), node: 'down', active, uplinks: {} };
    ctx.bus.emit('link', snapshot);
    const c = createProbesComponent(ctx, realProbesDeps());
    const samples: { s: ProbeSample; at: number }[] = [];
    ctx.bus.on('sample', (s) => samples.push({ s, at: performance.now() }));
    await c.start();
    // three wan failures (the first round starts within 0.5 s, then one per interval ± 10 %)
    const end = performance.now() + 3 * INTERVAL_MS * 1.1 + 1_500;
    while (samples.filter((x) => x.s.uplink === 'wan').length < 3 && performance.now() < end) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 600));
    await c.stop();
    await srv.close();
    ctx.stateDb.close();
    const wan = samples.filter((x) => x.s.uplink === 'wan' && x.s.kind === 'light');
    const lte = samples.filter((x) => x.s.uplink === 'lte' && x.s.kind === 'light');
    assert.ok(wan.length >= 3 && wan.every((x) => x.s.reachable === false), `wan failed 3 rounds: ${wan.map((x) => x.s.reachable)}`);
    assert.ok(
      lte.every((x) => x.s.reachable === true),
      'lte answers',
    );
    // an lte sample within 1 s after a wan failure (its round takes a loopback RTT; 1 s leaves room for a busy CI)
    const followed = wan.filter((w) => lte.some((l) => l.at > w.at && l.at - w.at < 1_000)).length;
    if (active === 'wan') assert.ok(followed >= 2, `lte followed ${followed} of ${wan.length} wan failures`);
    else assert.ok(lte.length <= wan.length + 1, `lte kept its pace: ${lte.length} rounds beside ${wan.length} of wan`);
  });
}
