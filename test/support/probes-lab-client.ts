/** Lab client run inside a namespace: builds an uplink monitor from a JSON config, runs light rounds and/or throughput probes, prints JSON. */
import { systemRunner } from '../../agent/base/exec.ts';
import { effectiveUplinks } from '../../agent/config/uplinks.ts';
import { DisturbanceWatch } from '../../probes/disturbance.ts';
import { createProbeMetrics } from '../../probes/metrics.ts';
import { ProbeStore } from '../../probes/store.ts';
import { parseTargets } from '../../probes/targets.ts';
import { UplinkMonitor } from '../../probes/uplink-monitor.ts';
import { probesTestContext } from './probes-context.ts';

const spec = JSON.parse(process.argv[2] ?? '{}') as { config: Record<string, unknown>; light?: number; throughput?: number; settleMs?: number };
const ctx = probesTestContext(spec.config);
const cfg = ctx.config.probes;
const uplink = effectiveUplinks(ctx.config.uplinks)[0];
if (!uplink) throw new Error('no uplink');
const mon = new UplinkMonitor({
  uplink,
  targets: parseTargets(uplink.targets ?? cfg.targets, cfg.echoPort),
  cfg,
  clock: ctx.clock,
  log: ctx.log,
  store: new ProbeStore(ctx.stateDb),
  metrics: createProbeMetrics(ctx.metrics),
  runner: systemRunner,
  random: Math.random,
  emit: () => undefined,
  // the daemon's judge of its own disturbance (probes/component.ts): a figure taken while starved is set aside
  watch: new DisturbanceWatch(ctx.clock),
});
const out: { light: unknown[]; throughput: unknown[] } = { light: [], throughput: [] };
for (let i = 0; i < (spec.light ?? 0); i++) out.light.push(await mon.lightRound());
// settleMs: wait past the agent's start-up warm-up (a throughput figure taken in it is set aside as `warmup`), so what
// is judged is what a running agent would do with the figure
if (spec.settleMs) await new Promise((r) => setTimeout(r, spec.settleMs));
for (let i = 0; i < (spec.throughput ?? 0); i++) out.throughput.push(await mon.throughput({ force: true }));
process.stdout.write(JSON.stringify(out) + '\n');
process.exit(0);
