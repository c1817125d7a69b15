/** Longer kill -9 soak of the telemetry buffer: `node scripts/buffer-crash-soak.ts [rounds=100] [clients=8] [seed] [thread]`; exits 1 on any loss. */
import { runCrashRounds } from '../test/support/buffer-crash.ts';

const rounds = Number(process.argv[2] ?? 100);
const clients = Number(process.argv[3] ?? 8);
const seed = Number(process.argv[4] ?? Date.now() % 1e9);
const writerThread = process.argv[5] === 'thread';
const t0 = Date.now();
const r = await runCrashRounds({ rounds, clients, minMs: 100, maxMs: 1500, seed, writerThread });
const secs = (Date.now() - t0) / 1000;
process.stdout.write(JSON.stringify({ soak: 'buffer-kill-9', writerThread, seed, seconds: secs, ...r }) + '\n');
process.stdout.write(
  `rounds ${r.rounds}, acknowledged ${r.acked}, delivered ${r.delivered}, missing ${r.acked - r.delivered}, re-sent ${r.resent}, under two keys ${r.multiKey}, falsely reported lost ${r.reportedLost} (${secs.toFixed(0)} s, seed ${seed})\n`,
);
process.exitCode = r.missing.length === 0 && r.multiKey === 0 && r.reportedLost === 0 ? 0 : 1;
