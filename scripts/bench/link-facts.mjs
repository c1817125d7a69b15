// Link-facts benchmark: how long one read takes and how long it blocks the event loop, systeminformation vs sysfs.
// Usage: npm run bench:link-facts -- [--iface eth0] [--reps 10]   (default: the interface of the first default route)
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { readLinkFacts } from '../../probes/passive.ts';

const args = process.argv.slice(2);
const opt = (name, dflt) => (args.includes(`--${name}`) ? args[args.indexOf(`--${name}`) + 1] : dflt);
/** Reads per method; a pause between them lets the loop-delay histogram see each block on its own. */
const REPS = Number(opt('reps', '10'));
const PAUSE_MS = 50;

/** The first default route's interface from /proc/net/route (destination 00000000). */
function defaultIface() {
  const line = readFileSync('/proc/net/route', 'utf8')
    .split('\n')
    .slice(1)
    .find((l) => l.split('\t')[1] === '00000000');
  return line?.split('\t')[0] ?? 'lo';
}

const iface = opt('iface', defaultIface());
const si = await import('systeminformation');
/** @type {[string, () => Promise<unknown>][]} */
const methods = [
  ['systeminformation networkInterfaces() (the daemon before session 13)', () => si.networkInterfaces()],
  ['sysfs + /proc/net/wireless readLinkFacts() (the daemon now)', () => readLinkFacts(iface)],
];
const q = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(p * xs.length))];
console.log(
  `link facts of ${iface}, ${REPS} reads each, node ${process.versions.node}, load ${readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ')}`,
);
for (const [name, fn] of methods) {
  const h = monitorEventLoopDelay({ resolution: 1 });
  const times = [];
  h.enable();
  for (let i = 0; i < REPS; i++) {
    const t = performance.now();
    await fn();
    times.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, PAUSE_MS));
  }
  h.disable();
  console.log(
    `${name}\n  per read: median ${q(times, 0.5).toFixed(1)} ms, max ${Math.max(...times).toFixed(1)} ms; event loop blocked up to ${(h.max / 1e6).toFixed(1)} ms`,
  );
}
