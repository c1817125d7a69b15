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

/** Reason prefixes from agent/core/link-verdict.ts (`down=3.1Mbps<5`) in words a non-IT person understands. */
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
};

/** "loss=12%>5" → "data getting lost on the way (loss=12%>5)"; unknown reasons are shown as they are. */
export function explainReason(reason: string): string {
  const key = reason.includes('=') ? reason.slice(0, reason.indexOf('=')) : reason.split(':')[0] ?? reason;
  const words = REASON_WORDS[key.trim()];
  return words && words !== reason ? `${words} (${reason})` : reason;
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
      meaning: 'The connection works, but it is slow or unreliable, so some applications may be slow. Data is kept on this device and sent later: nothing is lost.',
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
