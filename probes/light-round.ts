/** Runs one light-probe round for one uplink: every endpoint of the chosen targets, in parallel. */
import type { CommandRunner } from '../agent/exec.ts';
import type { WindowEntry } from './stats.ts';
import type { ProbeEndpoint, ProbeTarget } from './targets.ts';
import { tcpConnect, udpEcho, type Attempt, type ProbeIo } from './light-probes.ts';
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
  entries: WindowEntry[];
  bytes: number;
}

export interface RoundResult {
  outcomes: TargetOutcome[];
  /** RTTs answered in this round (all targets). */
  rtts: number[];
  bytes: number;
}

/** Probes every endpoint of `targets` once (UDP: a short burst); never throws. */
export async function runLightRound(targets: readonly ProbeTarget[], io: ProbeIo, runner: CommandRunner): Promise<RoundResult> {
  const outcomes = await Promise.all(
    targets.map(async (t): Promise<TargetOutcome> => {
      const probe = async (eps: readonly ProbeEndpoint[]): Promise<Attempt[]> =>
        (
          await Promise.all(
            eps.map(async (ep): Promise<Attempt[]> => {
              if (ep.kind === 'tcp') return [await tcpConnect(ep, io)];
              if (ep.kind === 'udp') return udpEcho(ep, io, UDP_PER_ROUND, UDP_SPACING_MS);
              return icmpPing(runner, ep.host, 1, 200, io.timeoutMs, io.sourceAddress);
            }),
          )
        ).flat();
      const primary = await probe(t.endpoints);
      const needFallback = !primary.some((a) => a.rttMs !== null) && (t.fallback ?? []).length > 0;
      const rescue = needFallback ? await probe(t.fallback ?? []) : [];
      // rescued by the fallback: the primary was filtered (not lost), so only the fallback's attempts are samples
      const attempts = rescue.some((a) => a.rttMs !== null) ? rescue : primary;
      return {
        id: t.id,
        up: attempts.some((a) => a.rttMs !== null),
        lossless: attempts.every((a) => a.rttMs !== null),
        entries: attempts.map((a) => ({ target: t.id, rttMs: a.rttMs })),
        bytes: [...primary, ...rescue].reduce((sum, a) => sum + a.bytes, 0),
      };
    }),
  );
  return {
    outcomes,
    rtts: outcomes.flatMap((o) => o.entries.flatMap((e) => (e.rttMs === null ? [] : [e.rttMs]))),
    bytes: outcomes.reduce((s, o) => s + o.bytes, 0),
  };
}
