// Link state in real time with the real probes component at DEFAULT settings (probes and probes.health):
// switchable UDP echo targets on loopback; prints detection and recovery times for a hard step (targets stop
// answering) and a soft step (+400 ms RTT). Takes about 5 minutes (the exit dwell is 60 s by default).
// Usage: node scripts/bench/link-realtime.mjs [--warmup-s 70]
import { systemClock } from '../../agent/base/clock.ts';
import { createLinkComponent } from '../../agent/link/component.ts';
import { createProbesComponent } from '../../probes/component.ts';
import { realProbesDeps } from '../../probes/adapters.ts';
import { makeLinkContext } from '../../test/support/link-context.ts';
import { startEcho } from '../../test/support/link-echo.ts';

const arg = (name, dflt) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
/** Clean rounds before the step, so the adaptive probe interval has stretched to its idle value (20 s by default). */
const WARMUP_MS = arg('--warmup-s', 70) * 1000;
/** Give up on one phase after this long (bounded run). */
const PHASE_LIMIT_MS = 300_000;

const echoes = await Promise.all([startEcho(), startEcho(), startEcho()]);
const ctx = makeLinkContext({ probes: { targets: echoes.map((e) => e.target) } }, { clock: systemClock });
const link = createLinkComponent(ctx);
const probes = createProbesComponent(ctx, realProbesDeps());
await link.start();
await probes.start();
const setAll = (m) => echoes.forEach((e) => e.set(m));
const until = async (want) => {
  const t0 = Date.now();
  while (Date.now() - t0 < PHASE_LIMIT_MS) {
    if (ctx.bus.latestLink()?.node === want) return (Date.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
};

const results = [];
const record = (name, seconds) => {
  const r = { case: name, seconds };
  results.push(r);
  process.stdout.write(JSON.stringify({ bench: 'link-realtime', warmupS: WARMUP_MS / 1000, ...r }) + '\n');
};
const first = await until('healthy');
record('start → first verdict healthy', first);
await new Promise((r) => setTimeout(r, WARMUP_MS));
setAll({ kind: 'drop' });
record('hard: targets stop answering → down', await until('down'));
setAll({ kind: 'ok' });
record('hard: targets answer again → healthy', await until('healthy'));
await new Promise((r) => setTimeout(r, WARMUP_MS));
setAll({ kind: 'delay', ms: 400 });
record('soft: RTT +400 ms → degraded', await until('degraded'));
setAll({ kind: 'ok' });
record('soft: RTT back to normal → healthy', await until('healthy'));

await probes.stop();
await link.stop();
await Promise.all(echoes.map((e) => e.close()));
ctx.cleanup();
process.stdout.write('\ncase                                        seconds\n');
for (const r of results) process.stdout.write(`${r.case.padEnd(44)}${r.seconds ?? 'not reached'}\n`);
