/** Pure flush gate: from the link snapshot decide which priority classes may be sent now, and how fast. */
import type { LinkSnapshot } from '../agent/core/types.ts';
import { paceRateBytesPerSec } from './pacer.ts';

export type GateMode = 'drain' | 'high-only' | 'canary';

export interface GateInput {
  /** Latest link snapshot (null: none published yet). */
  link: LinkSnapshot | null;
  /** Names of uplinks configured as metered. */
  metered: ReadonlySet<string>;
  meteredHighOnly: boolean;
  paceFraction: number;
}

export interface GateDecision {
  mode: GateMode;
  /** Highest priority rank allowed (0 = only high, 2 = all). */
  maxPriority: number;
  /** Upstream byte rate (null: no bandwidth measured → unpaced). */
  rateBps: number | null;
  /** Why, for status and logs. */
  reason: string;
}

/**
 * - `down`: canary — one batch per canary window; the link state may be stale and a success proves nothing
 *   more than that one request got through, so the gate stays closed until the state machine says otherwise.
 * - `degraded`: only the high-priority class.
 * - `healthy`: full drain.
 * - `unknown` / no snapshot (no probes configured, or before the first measurement): full drain; the
 *   forwarder's own exponential backoff makes failed sends canary-like. A buffer that never flushed
 *   without probes would silently fill the disk of every `npm start` user.
 * - A metered active uplink limits sending to the high-priority class (meteredHighOnly).
 */
export function flushGate(input: GateInput): GateDecision {
  const { link } = input;
  const active = link?.active ?? null;
  const rateBps = paceRateBytesPerSec(active !== null ? link?.uplinks[active]?.latest.uploadMbps : undefined, input.paceFraction);
  let d: GateDecision;
  switch (link?.node ?? 'unknown') {
    case 'down':
      d = { mode: 'canary', maxPriority: 2, rateBps, reason: 'link down: one canary batch per window' };
      break;
    case 'degraded':
      d = { mode: 'high-only', maxPriority: 0, rateBps, reason: 'link degraded: high priority only' };
      break;
    case 'healthy':
      d = { mode: 'drain', maxPriority: 2, rateBps, reason: 'link healthy: full drain' };
      break;
    default:
      d = { mode: 'drain', maxPriority: 2, rateBps, reason: 'link unknown: draining with retry backoff' };
  }
  if (input.meteredHighOnly && active !== null && input.metered.has(active) && d.maxPriority > 0) {
    d = { ...d, mode: d.mode === 'canary' ? 'canary' : 'high-only', maxPriority: 0, reason: `${d.reason}; metered uplink ${active}: high priority only` };
  }
  return d;
}
