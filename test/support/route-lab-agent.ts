/** Lab driver process: the real route component plus a minimal TCP-connect prober, run inside lwr-edge; prints JSON lines. */
import { connect } from 'node:net';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Registry } from 'prom-client';
import { AgentBus } from '../../agent/runtime/bus.ts';
import { systemClock } from '../../agent/base/clock.ts';
import { validateConfig } from '../../agent/config/load.ts';
import type { LinkHealth, LinkSnapshot } from '../../agent/core/types.ts';
import { createLogger } from '../../agent/base/log.ts';
import { createLinkComponent } from '../../agent/link/component.ts';
import { createRouteComponent } from '../../agent/route/component.ts';
import { realRouteDeps } from '../../agent/route/adapters.ts';
import { createProbesComponent } from '../../probes/component.ts';
import { realProbesDeps } from '../../probes/adapters.ts';

/**
 * Minimal prober for the lab only (the probes package is exercised by its own lab): per uplink and round, one TCP
 * connect (reachability) and one small download from the target's port+1 (throughput), both bound to the uplink's address.
 */
const ROUND_MS = Number(process.env.LWR_ROUND_MS ?? 250);
const CONNECT_TIMEOUT_MS = 200;
/** Health from the last rounds: 2 failures in a row → down; 3 successes in a row → healthy. */
const DOWN_AFTER = 2;
const UP_AFTER = 3;
/** Lab download size: 64 KiB takes ≈0.5 s through a 1 Mbit/s tbf and ≈1 ms on a bare veth. */
const DOWNLOAD_BYTES = 65_536;
/** A download is cut off after this; the rate is then computed from the bytes received (a blackholed link gets none). */
const DOWNLOAD_TIMEOUT_MS = 400;
/** Below this the uplink is degraded (the link-state default for downloadMbps). */
const DEGRADED_BELOW_MBPS = 5;

const [stateDir, configJson] = process.argv.slice(2);
mkdirSync(stateDir!, { recursive: true });
const v = validateConfig(JSON.parse(configJson!));
if (!v.ok) throw new Error(JSON.stringify(v.problems));
const db = new Database(join(stateDir!, 'state.db'));
db.pragma('journal_mode = WAL');
const log = createLogger({ level: v.config.log.level, format: 'json', dest: process.stderr });
const ctx = { config: v.config, log, clock: systemClock, metrics: new Registry(), bus: new AgentBus(), stateDir: stateDir!, stateDb: db, nodeName: 'lab' };
const out = (o: Record<string, unknown>): void => void process.stdout.write(JSON.stringify({ atMs: Date.now(), ...o }) + '\n');
ctx.bus.on('active', (a) => out({ event: 'active', uplink: a }));

const probe = (src: string, host: string, port: number): Promise<number | null> =>
  new Promise((resolve) => {
    const t0 = performance.now();
    const s = connect({ host, port, localAddress: src, timeout: CONNECT_TIMEOUT_MS });
    const done = (ok: boolean): void => {
      s.destroy();
      resolve(ok ? performance.now() - t0 : null);
    };
    s.once('connect', () => done(true));
    s.once('timeout', () => done(false));
    s.once('error', () => done(false));
  });

const download = (src: string, host: string, port: number): Promise<number | null> =>
  new Promise((resolve) => {
    const t0 = performance.now();
    let bytes = 0;
    const s = connect({ host, port, localAddress: src });
    const rate = (): number | null => (bytes > 0 ? (bytes * 8) / ((performance.now() - t0) * 1000) : null);
    const timer = setTimeout(() => {
      s.destroy();
      resolve(rate());
    }, DOWNLOAD_TIMEOUT_MS);
    s.on('data', (d: Buffer) => {
      bytes += d.length;
    });
    s.once('end', () => {
      clearTimeout(timer);
      s.destroy();
      resolve(bytes >= DOWNLOAD_BYTES ? rate() : null);
    });
    s.once('error', () => {
      clearTimeout(timer);
      resolve(null);
    });
  });

const hist: Record<string, (number | null)[]> = {};
const mbps: Record<string, (number | null)[]> = {};
const state: Record<string, { health: LinkHealth; sinceMs: number }> = {};
// LWR_IP: another `ip` binary (route-lab-flaky-ip.mjs fakes an empty read on demand).
const comp = createRouteComponent(ctx, {
  ...realRouteDeps(ctx, process.env.LWR_IP ?? 'ip'),
  k3sFacts: () => ({ configs: [], unitArgs: [], cmdlines: [], binary: false }),
  systemdRunning: false,
});
// LWR_PROBES=real: the probes package and the link-state machine produce the snapshots instead of the lab prober.
if (process.env.LWR_PROBES === 'real') {
  ctx.bus.on('link', (snap) => {
    for (const [name, u] of Object.entries(snap.uplinks)) {
      if (state[name]?.health !== u.health) out({ event: 'health', uplink: name, health: u.health });
      state[name] = { health: u.health, sinceMs: u.sinceMs };
    }
  });
  await createLinkComponent(ctx).start();
  await comp.start();
  await createProbesComponent(ctx, realProbesDeps()).start();
  out({ event: 'started', active: comp.details().active, probes: 'real' });
  // Component timers are unref'd: keep the process alive until killed.
  setInterval(() => undefined, 3_600_000);
  await new Promise(() => undefined);
}
await comp.start();
out({ event: 'started', active: comp.details().active });
// SIGTERM: stop like the daemon does (restore on stop), report, exit.
process.once('SIGTERM', () => {
  void comp.stop().then(() => {
    out({ event: 'stopped' });
    process.exit(0);
  });
});

for (let round = 0; round < 100_000; round++) {
  const now = Date.now();
  const uplinks: LinkSnapshot['uplinks'] = {};
  await Promise.all(
    v.config.uplinks.map(async (u) => {
      const [host, port] = (u.targets?.[0] ?? '').split(':');
      const [r, dl] = await Promise.all([probe(u.sourceAddress!, host!, Number(port)), download(u.sourceAddress!, host!, Number(port) + 1)]);
      const h = (hist[u.name] = [...(hist[u.name] ?? []), r].slice(-5));
      const d = (mbps[u.name] = [...(mbps[u.name] ?? []), dl].slice(-5));
      const slow = d.length >= 2 && d.slice(-2).every((x) => x !== null && x < DEGRADED_BELOW_MBPS);
      const prev = state[u.name] ?? { health: 'unknown' as LinkHealth, sinceMs: now };
      const tail = (n: number, f: (x: number | null) => boolean): boolean => h.length >= n && h.slice(-n).every(f);
      const health: LinkHealth = tail(DOWN_AFTER, (x) => x === null)
        ? 'down'
        : slow
          ? 'degraded'
          : tail(UP_AFTER, (x) => x !== null) && d.at(-1) !== null
            ? 'healthy'
            : prev.health;
      if (health !== prev.health) out({ event: 'health', uplink: u.name, health });
      state[u.name] = { health, sinceMs: health === prev.health ? prev.sinceMs : now };
      const ok = h.filter((x) => x !== null) as number[];
      uplinks[u.name] = {
        name: u.name,
        health,
        sinceMs: state[u.name]!.sinceMs,
        reasons: health === 'healthy' ? [] : [slow ? 'download slow' : 'connect failed'],
        latest: {
          atMs: now,
          rttMs: ok.length ? ok[ok.length - 1]! : undefined,
          lossPercent: (100 * (h.length - ok.length)) / h.length,
          ...(dl !== null ? { downloadMbps: dl } : {}),
        } as LinkSnapshot['uplinks'][string]['latest'],
      };
    }),
  );
  ctx.bus.emit('link', { atMs: now, node: 'unknown', active: null, uplinks });
  await new Promise((r) => setTimeout(r, ROUND_MS));
}
