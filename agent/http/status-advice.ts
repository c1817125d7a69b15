/** Plain-language verdict for the status page: what the link state means for on-site staff and what to do (pure). */

/** Colour family of a message: green, amber, red, or neutral while measuring. */
export type Tone = 'good' | 'warn' | 'bad' | 'wait';

export interface Advice {
  /** Machine-readable state shown on the page (`healthy`, `degraded`, `down`, `unknown`). */
  state: string;
  tone: Tone;
  /** One glyph so the state is not told by colour alone. */
  icon: string;
  headline: string;
  meaning: string;
  todo: string[];
}

/** The parts of a /v1/status `link` snapshot the page reads (all optional: the page must never crash). */
export interface PageUplink {
  health?: string;
  sinceMs?: number;
  reasons?: string[];
  latest?: Record<string, unknown>;
  /** When each figure in `latest` was measured (ms since epoch). */
  measuredAtMs?: Record<string, unknown>;
  notes?: PageNote[];
  budget?: PageBudget;
}
/** A measurement note as the page reads it (see MeasurementNote in agent/core/types.ts). */
export interface PageNote {
  code?: string;
  message?: string;
  sinceMs?: number;
}
/** The probe byte budget as the page reads it (see BudgetStatus in agent/core/types.ts). */
export interface PageBudget {
  budgetBytes?: number;
  usedBytes?: number;
  remainingBytes?: number;
  resetAtMs?: number;
  spent?: boolean;
}
export interface PageLink {
  atMs?: number;
  node?: string;
  active?: string | null;
  uplinks?: Record<string, PageUplink>;
}

/** After this long without a verdict, "still measuring" is no longer normal: tell staff to call support. */
export const UNKNOWN_TOO_LONG_S = 300;

const CALL = 'call support and read them the reference at the bottom of this page';

/** Reason prefixes from agent/core/link-verdict.ts and link-state.ts (`down=3.1Mbps<5`) in words a non-IT person understands. */
const REASON_WORDS: Record<string, string> = {
  carrier: 'cable or modem disconnected',
  unreachable: 'the internet cannot be reached',
  down: 'download speed too low',
  up: 'upload speed too low',
  rtt_p95: 'responses too slow (delay)',
  loss: 'data getting lost on the way',
  jitter: 'delay jumping up and down',
  stale: 'no recent measurement',
  'no measurement yet': 'not measured yet',
  recovering: 'getting better: waiting a little to be sure',
  damped: 'went off and on several times: kept at this level until it is steady',
};

/** "loss=12%>5" → "data getting lost on the way (loss=12%>5)"; unknown reasons are shown as they are. */
export function explainReason(reason: string): string {
  // the prefix ends at the first '=' or ':' ("damped: flapping, penalty=1200>1000" is a "damped" reason)
  const key = /^[^=:]*/.exec(reason)?.[0] ?? reason;
  const words = REASON_WORDS[key.trim()];
  return words && words !== reason ? `${words} (${reason})` : reason;
}

const SUPPORT_NOT_YOU = 'This is a problem for support, not for you: the connection itself may be fine.';

/**
 * Measurement notes (agent/core/types.ts MeasurementNoteCode) in words for on-site staff. A note is never a link
 * fault, so no text blames the connection or asks staff to touch the modem. `{reset}` is when the budget refills.
 */
const NOTE_WORDS: Record<string, string> = {
  target_refused: `A test server is not answering. ${SUPPORT_NOT_YOU}`,
  target_silent: `One of the test servers does not reply. ${SUPPORT_NOT_YOU}`,
  throughput_server_failing: `The speed-test server is not working, so the speeds shown may be old. ${SUPPORT_NOT_YOU}`,
  throughput_server_slow: `The speed-test server is slow, so each speed test is run twice. ${SUPPORT_NOT_YOU}`,
  throughput_disabled: 'Speed tests are switched off on this device, so no speeds are shown. Nothing to do.',
  budget_spent:
    'The speed tests have used up their data allowance for today, so the speeds shown may be old. They are measured again after {reset}. Nothing to do.',
  measurements_disturbed:
    'Some measurements could not be trusted, so they were set aside: this device was very busy, or a speed reading could not be confirmed. The status above only uses measurements that could be trusted. Nothing to do.',
  throughput_expired: 'The last speed measurement is too old to rely on, so it is not used. A new one is taken as soon as possible. Nothing to do.',
  target_unprobed: `One of the test servers cannot be reached through this connection the way it is set up (usually: no IPv6 address on it yet), so it is left out of the checks. ${SUPPORT_NOT_YOU}`,
};

/** Plain words for a measurement note; an unknown code shows its own message for support. */
export function explainNote(code: string | undefined, message: string | undefined, reset = 'midnight (UTC)'): string {
  const words = code === undefined ? undefined : NOTE_WORDS[code];
  if (words !== undefined) return words.replace('{reset}', reset);
  return `A note for support about the measurements: ${(message ?? code ?? 'no details').replace(/\.$/, '')}.`;
}

function uplinksWith(link: PageLink, pred: (u: PageUplink) => boolean): string[] {
  return Object.entries(link.uplinks ?? {})
    .filter(([, u]) => pred(u))
    .map(([name]) => name);
}

/** The advice for the node's link state; `uptimeS` decides when "still measuring" becomes a problem. */
export function adviseLink(link: PageLink | null, uptimeS: number): Advice {
  const state = link?.node ?? 'unknown';
  if (state === 'healthy') {
    return { state, tone: 'good', icon: '✓', headline: 'Internet connection OK', meaning: 'The connection works normally.', todo: ['Nothing to do.'] };
  }
  if (state === 'degraded') {
    return {
      state,
      tone: 'warn',
      icon: '!',
      headline: 'Internet connection is slow',
      meaning:
        'The connection works, but it is slow or unreliable, so some applications may be slow. Data is kept on this device and sent later: nothing is lost.',
      todo: ['Check that the modem or antenna has not been moved, covered or unplugged.', `If it stays like this for more than 30 minutes, ${CALL}.`],
    };
  }
  if (state === 'down') {
    const unplugged = link ? uplinksWith(link, (u) => (u.reasons ?? []).some((r) => r.startsWith('carrier='))) : [];
    return {
      state,
      tone: 'bad',
      icon: '✕',
      headline: 'No internet connection',
      meaning: 'This site keeps working on its own. Data is kept on this device and sent automatically when the connection is back.',
      todo: [
        ...(unplugged.length > 0 ? [`Check that the network cable of ${unplugged.join(', ')} is plugged in at both ends.`] : []),
        'Check that the modem/router has power and its lights are on.',
        'Restart the modem/router: unplug it, wait 30 seconds, plug it back in, then wait 5 minutes.',
        `If there is still no connection after 15 minutes, ${CALL}.`,
      ],
    };
  }
  const late = uptimeS > UNKNOWN_TOO_LONG_S;
  return {
    state: 'unknown',
    tone: late ? 'warn' : 'wait',
    icon: '⋯',
    headline: late ? 'Connection not measured' : 'Checking the connection…',
    meaning: late
      ? 'linkward has not been able to measure the connection for several minutes, so it cannot tell whether the link works.'
      : 'linkward is measuring the connection. It never reports OK before a real measurement.',
    todo: late ? [`Please ${CALL}.`] : ['Wait a minute: this page refreshes by itself.'],
  };
}

/** Names of agent parts that failed (for a separate "part of linkward is not working" notice). */
export function failedParts(components: Record<string, { state?: string; message?: string }>): string[] {
  return Object.entries(components)
    .filter(([, c]) => c.state === 'error' || c.state === 'down')
    .map(([name, c]) => (c.message ? `${name}: ${c.message}` : name));
}

/** Telemetry that has waited longer than this while the gate lets it go is "not leaving" (sinks poll every second). */
export const TELEMETRY_LATE_S = 600;
/** After this long, a telemetry backlog is worth a call to support (before that it often clears by itself). */
export const TELEMETRY_CALL_AFTER_S = 2 * 3_600;
/** Priority names in rank order (agent/config/buffer.ts PRIORITY_NAMES): a lane is allowed out when its rank ≤ the gate's maxPriority. */
const PRIORITY_RANK: Record<string, number> = { high: 0, normal: 1, low: 2 };

/** What the page says about telemetry waiting on this device (from the buffer component's status). */
export interface Backlog {
  records: number;
  bytes: number;
  /** Oldest record waiting (s), any lane; null when nothing waits. */
  oldestAgeS: number | null;
  /** Oldest record the gate would let out now (s): held-back low-priority data on a metered link is not "stuck". */
  oldestAllowedAgeS: number | null;
  sinkFailing: boolean;
  /** Telemetry is not leaving: the gate allows it, yet it waits for longer than TELEMETRY_LATE_S or the sink keeps failing while it grows. */
  stuck: boolean;
}

/** The backlog from the buffer's status details; null without a buffer (disabled, not started). `growing`: the recorded depth rose lately. */
export function backlogFrom(buffer: { state?: string; details?: Record<string, unknown> } | undefined, growing = false): Backlog | null {
  const d = buffer?.details as
    | {
        usage?: { records?: unknown; bytes?: unknown };
        gate?: { maxPriority?: unknown };
        lanes?: { priority?: unknown; oldestAgeSeconds?: unknown }[];
        sinks?: { attempts?: unknown }[];
      }
    | undefined;
  if (!d?.usage || typeof d.usage.records !== 'number') return null;
  const maxPrio = typeof d.gate?.maxPriority === 'number' ? d.gate.maxPriority : 2;
  let oldest: number | null = null;
  let oldestAllowed: number | null = null;
  for (const l of d.lanes ?? []) {
    if (typeof l.oldestAgeSeconds !== 'number') continue;
    oldest = Math.max(oldest ?? 0, l.oldestAgeSeconds);
    if ((PRIORITY_RANK[String(l.priority)] ?? 0) <= maxPrio) oldestAllowed = Math.max(oldestAllowed ?? 0, l.oldestAgeSeconds);
  }
  const sinkFailing = (d.sinks ?? []).some((s) => typeof s.attempts === 'number' && s.attempts > 0);
  const records = d.usage.records;
  const stuck = records > 0 && ((oldestAllowed ?? 0) > TELEMETRY_LATE_S || (sinkFailing && growing));
  return { records, bytes: typeof d.usage.bytes === 'number' ? d.usage.bytes : 0, oldestAgeS: oldest, oldestAllowedAgeS: oldestAllowed, sinkFailing, stuck };
}

/**
 * A healthy link whose telemetry is not leaving is amber, not "OK, nothing to do" (issue 13 item 7): the words say
 * the connection works and the data is safe, so staff do not touch the modem; support is called only after hours.
 */
export function adviseTelemetry(link: Advice, backlog: Backlog | null, waitedText: (s: number) => string): Advice {
  if (link.state !== 'healthy' || !backlog?.stuck) return link;
  const waited = backlog.oldestAllowedAgeS ?? 0;
  const late = waited > TELEMETRY_CALL_AFTER_S;
  return {
    state: 'healthy',
    tone: 'warn',
    icon: '!',
    headline: 'Internet OK — data is not being sent',
    meaning: `The connection works, but this device's data has not reached the server for ${waitedText(waited)} (${backlog.records} records waiting${backlog.sinkFailing ? '; the receiving server refuses or does not answer' : ''}). It is kept safely on this device and sent as soon as the server takes it.`,
    todo: [
      'Nothing to fix on site: the connection itself works.',
      late ? `This has lasted ${waitedText(waited)}: ${CALL}.` : `If this lasts more than ${TELEMETRY_CALL_AFTER_S / 3_600} hours, ${CALL}.`,
    ],
  };
}
