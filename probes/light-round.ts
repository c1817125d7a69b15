/** Runs one light-probe round for one uplink: every endpoint of the chosen targets, in parallel. */
import type { CommandRunner } from '../agent/base/exec.ts';
import type { Disturbance, DisturbanceWatch } from './disturbance.ts';
import type { WindowEntry } from './stats.ts';
import type { ProbeEndpoint, ProbeTarget } from './targets.ts';
import { bindFor, tcpConnect, udpEcho, type Attempt, type ProbeIo } from './light-probes.ts';
import { icmpPing } from './icmp.ts';

/** UDP echoes per endpoint per round: 2 give a jitter pair while keeping a round ≈ 250 B. */
export const UDP_PER_ROUND = 2;
/** Gap between the echoes of one round. */
export const UDP_SPACING_MS = 20;

export interface TargetOutcome {
  id: string;
  /** Any endpoint answered. */
  up: boolean;
  /** No attempt of this target was lost. */
  lossless: boolean;
  /** Every answer was a TCP reset (connection refused): the path works, nothing listens there. */
  refused: boolean;
  entries: WindowEntry[];
  bytes: number;
}

export interface RoundResult {
  outcomes: TargetOutcome[];
  /** RTTs answered in this round (all targets). */
  rtts: number[];
  bytes: number;
  /** Why the agent cannot vouch for this round's timing (null: it can). */
  disturbance: Disturbance | null;
  /** Some attempt was answered (even late): a round with no answer at all is silence, which starvation cannot cause. */
  anyAnswer: boolean;
}

/**
 * How one attempt enters the sliding window. Undisturbed: an answer in time is an RTT, a late answer or a SYN
 * retransmission is a loss. Starved: the agent read its sockets late, so any answer is "answered, time unknown"
 * (untimed) and only an attempt that never got an answer is lost — starvation delays replies, it does not destroy them.
 */
export function windowEntry(target: string, a: Attempt, starved: boolean): WindowEntry {
  if (starved && a.answered) return { target, rttMs: null, untimed: true };
  return { target, rttMs: a.rttMs };
}

/** The attempt counts as the target answering (for quorum and the UDP → TCP fallback). */
function counts(a: Attempt, starved: boolean): boolean {
  return a.rttMs !== null || (starved && a.answered);
}

/** Probes every endpoint of `targets` once (UDP: a short burst); never throws. `watch` judges the agent's own delay. */
export async function runLightRound(targets: readonly ProbeTarget[], io: ProbeIo, runner: CommandRunner, watch?: DisturbanceWatch): Promise<RoundResult> {
  const window = watch?.begin();
  const raw = await Promise.all(
    targets.map(async (t): Promise<{ t: ProbeTarget; attempts: Attempt[]; bytes: number }> => {
      const probe = async (eps: readonly ProbeEndpoint[]): Promise<Attempt[]> =>
        (
          await Promise.all(
            eps.map(async (ep): Promise<Attempt[]> => {
              if (ep.kind === 'tcp') return [await tcpConnect(ep, io)];
              if (ep.kind === 'udp') return udpEcho(ep, io, UDP_PER_ROUND, UDP_SPACING_MS);
              return icmpPing(runner, ep.host, 1, 200, io.timeoutMs, bindFor(io, ep.host));
            }),
          )
        ).flat();
      const primary = await probe(t.endpoints);
      const needFallback = !primary.some((a) => a.answered) && (t.fallback ?? []).length > 0;
      const rescue = needFallback ? await probe(t.fallback ?? []) : [];
      // rescued by the fallback: the primary was filtered (not lost), so only the fallback's attempts are samples
      return { t, attempts: rescue.some((a) => a.answered) ? rescue : primary, bytes: [...primary, ...rescue].reduce((sum, a) => sum + a.bytes, 0) };
    }),
  );
  const disturbance = window && watch ? watch.end(window) : null;
  const starved = disturbance?.reason === 'starved';
  const outcomes = raw.map(({ t, attempts, bytes }): TargetOutcome => {
    const answers = attempts.filter((a) => a.answered);
    return {
      id: t.id,
      up: attempts.some((a) => counts(a, starved)),
      lossless: attempts.every((a) => counts(a, starved)),
      refused: answers.length > 0 && answers.every((a) => a.refused === true),
      entries: attempts.map((a) => windowEntry(t.id, a, starved)),
      bytes,
    };
  });
  return {
    outcomes,
    rtts: outcomes.flatMap((o) => o.entries.flatMap((e) => (e.rttMs === null ? [] : [e.rttMs]))),
    bytes: outcomes.reduce((s, o) => s + o.bytes, 0),
    disturbance,
    anyAnswer: raw.some((r) => r.attempts.some((a) => a.answered)),
  };
}
