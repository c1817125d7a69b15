/** Lab helper (runs inside a namespace): real probes + link components and the real status server; prints its address. */
import { systemClock } from '../../agent/base/clock.ts';
import { startRouteServer } from './route-server.ts';
import { createLinkComponent } from '../../agent/link/component.ts';
import { LinkHealthConfigSchema } from '../../agent/config/link.ts';
import { createProbesComponent } from '../../probes/component.ts';
import { realProbesDeps } from '../../probes/adapters.ts';
import { makeLinkContext } from './link-context.ts';

// argv: interface, probe target, dwell enter s, dwell exit s
const [iface = 'wan0', target = 'udp://127.0.0.1:9', enterS = '1', exitS = '2'] = process.argv.slice(2);
const ctx = makeLinkContext(
  { uplinks: [{ name: 'wan', interface: iface }], probes: { targets: [target], intervalMs: 500, maxIntervalMs: 500, timeoutMs: 300, windowPackets: 4 } },
  { clock: systemClock },
);
const link = createLinkComponent(ctx, {
  health: LinkHealthConfigSchema.parse({ dwell: { enterS: Number(enterS), exitS: Number(exitS) }, damping: { enabled: false } }),
});
const probes = createProbesComponent(ctx, realProbesDeps());
await link.start();
await probes.start();
const server = await startRouteServer({ log: ctx.log, metrics: ctx.metrics, routes: () => [...(link.routes?.() ?? []), ...(probes.routes?.() ?? [])] });
process.stdout.write(`listening ${server.address}\n`);
const stop = async (): Promise<void> => {
  await probes.stop();
  await link.stop();
  await server.close();
  ctx.cleanup();
  process.exit(0);
};
process.on('SIGTERM', () => void stop());
process.on('SIGINT', () => void stop());
