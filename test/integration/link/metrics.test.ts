/** Integration: the link metrics exposition passes the real `promtool check metrics` (Debian package `prometheus`). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createLinkComponent } from '../../../agent/link/component.ts';
import { keepAlive, makeLinkContext } from '../../support/link-context.ts';
import { carrier, light } from '../../support/link-samples.ts';

/** promtool answers in well under a second; 20 s only trips when it hangs. */
const PROMTOOL_TIMEOUT_MS = 20_000;

test('promtool check metrics accepts linkward_link_* after transitions', async (t) => {
  const ctx = makeLinkContext({ uplinks: [{ name: 'wan' }, { name: 'lte' }] });
  const comp = keepAlive(createLinkComponent(ctx));
  await comp.start();
  t.after(async () => {
    await comp.stop();
    ctx.cleanup();
  });
  ctx.bus.emit('sample', light('wan', ctx.clock.nowMs()));
  ctx.bus.emit('sample', carrier('lte', ctx.clock.nowMs(), false));
  const text = await ctx.metrics.metrics();
  const r = await new Promise<{ code: number; out: string }>((res) => {
    const child = execFile('promtool', ['check', 'metrics'], { timeout: PROMTOOL_TIMEOUT_MS }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: string | number }) | null;
      if (e?.code === 'ENOENT') return res({ code: -127, out: 'promtool not found: install the Debian package "prometheus"' });
      res({ code: e ? (typeof e.code === 'number' ? e.code : 1) : 0, out: stdout + stderr });
    });
    child.stdin?.end(text);
  });
  assert.equal(r.code, 0, r.out);
  for (const name of [
    'linkward_link_state',
    'linkward_link_node_state',
    'linkward_link_transitions_total',
    'linkward_link_node_transitions_total',
    'linkward_link_damping_penalty',
    'linkward_link_suppressed',
  ]) {
    assert.match(text, new RegExp(`^# TYPE ${name} `, 'm'), name);
  }
});
