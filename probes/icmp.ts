/** ICMP echo through the system `ping` (no raw sockets in Node): argument building and output parsing. */
import type { CommandRunner } from '../agent/base/exec.ts';
import type { Attempt } from './light-probes.ts';
import type { LwCode } from '../agent/base/error-codes.ts';

/** ICMP payload bytes: 16 instead of ping's default 56 keeps idle monitoring cheap. */
export const PING_PAYLOAD_BYTES = 16;
/** Wire bytes of one ICMP echo + reply: 2 × (Ethernet 14 + IPv4 20 + ICMP 8 + payload). */
export const PING_WIRE_BYTES = 2 * (14 + 20 + 8 + PING_PAYLOAD_BYTES);

/** Arguments for `ping`: numeric, quiet about DNS, bounded by count and deadline, optionally bound to a source. */
export function pingArgs(host: string, count: number, intervalMs: number, timeoutMs: number, sourceAddress?: string): string[] {
  const deadlineS = Math.max(1, Math.ceil(((count - 1) * intervalMs + timeoutMs) / 1000));
  const args = [
    '-n',
    '-c',
    String(count),
    '-i',
    (Math.max(200, intervalMs) / 1000).toFixed(3),
    '-W',
    String(Math.max(1, Math.ceil(timeoutMs / 1000))),
    '-w',
    String(deadlineS),
    '-s',
    String(PING_PAYLOAD_BYTES),
  ];
  if (sourceAddress) args.push('-I', sourceAddress);
  args.push(host);
  return args;
}

/**
 * Parses `ping` output into one Attempt per sequence number 1..count (missing replies are losses). iputils ping takes its
 * times from kernel receive timestamps (SO_TIMESTAMP), so its RTTs do not include the agent's own scheduling delay.
 */
export function parsePing(stdout: string, count: number): Attempt[] {
  const rtts = new Map<number, number>();
  for (const line of stdout.split('\n')) {
    const m = /icmp_seq=(\d+).*time[=<]([\d.]+) ms/.exec(line);
    if (m) rtts.set(Number(m[1]), Number(m[2]));
  }
  const out: Attempt[] = [];
  for (let seq = 1; seq <= count; seq++) {
    const rtt = rtts.get(seq);
    out.push(
      rtt === undefined
        ? { rttMs: null, answered: false, bytes: PING_WIRE_BYTES / 2, error: 'timeout' }
        : { rttMs: rtt, answered: true, bytes: PING_WIRE_BYTES },
    );
  }
  return out;
}

/** Runs ping; exit 1 (no reply) is a measurement, exit 2 or a missing binary is an error for every attempt. */
export async function icmpPing(
  runner: CommandRunner,
  host: string,
  count: number,
  intervalMs: number,
  timeoutMs: number,
  sourceAddress?: string,
): Promise<Attempt[]> {
  const args = pingArgs(host, count, intervalMs, timeoutMs, sourceAddress);
  try {
    const r = await runner.run('ping', args, { okCodes: [0, 1], timeoutMs: timeoutMs + count * intervalMs + 2_000 });
    return parsePing(r.stdout, count);
  } catch (e) {
    const code = (e as { code?: string }).code ?? ('LW_COMMAND_FAILED' satisfies LwCode);
    return Array.from({ length: count }, () => ({ rttMs: null, answered: false, bytes: 0, error: code }));
  }
}
