/** The history component: runs the recorder, serves GET /v1/history, and gives the page a cached 24 h document. */
import type { AgentContext, Component, ComponentStatus, HttpRoute } from '../runtime/component.ts';
import { sendError, sendJson } from '../base/http-respond.ts';
import { parseSince } from './downsample.ts';
import { buildHistory, DEFAULT_SINCE_MS, MAX_SINCE_MS, type HistoryDoc } from './query.ts';
import { HistoryRecorder } from './recorder.ts';
import { HistoryStore } from './store.ts';

/** Error codes of this package. */
export const HistoryErrorCode = {
  /** `?since=` is not a duration such as 6h, 90m, 2d, or is longer than the kept history. */
  BAD_SINCE: 'LW_HISTORY_BAD_SINCE',
} as const;

/**
 * The page refreshes every 5 s; the 24 h document is rebuilt at most this often. Light results are stored once a
 * minute, so 30 s never hides a stored point for long, and parsing a day of samples is not repeated on every refresh.
 */
const PAGE_CACHE_MS = 30_000;

export interface HistoryComponent extends Component {
  /** The document for the last `windowMs` as of now (cached for the page when `cached`). */
  history(windowMs?: number, cached?: boolean): HistoryDoc;
}

/** `since` from a query string: a duration (6h, 90m, 2d), bounded by MAX_SINCE_MS; throws a message on bad input. */
export function sinceFromQuery(value: string | null): number {
  if (value === null || value === '') return DEFAULT_SINCE_MS;
  const ms = parseSince(value);
  if (ms === null) throw new Error(`since=${value} is not a duration such as 6h, 90m or 2d`);
  if (ms > MAX_SINCE_MS) throw new Error(`since=${value} is longer than the ${MAX_SINCE_MS / 3_600_000} h of history kept`);
  return ms;
}

export function createHistoryComponent(ctx: AgentContext, components: () => Record<string, ComponentStatus>): HistoryComponent {
  const log = ctx.log.child({ component: 'history' });
  const store = new HistoryStore(ctx.stateDb);
  const recorder = new HistoryRecorder({ store, clock: ctx.clock, log, components });
  let cache: { atMono: number; doc: HistoryDoc } | null = null;
  let lastError: string | null = null;

  function history(windowMs = DEFAULT_SINCE_MS, cached = false): HistoryDoc {
    if (cached && cache && windowMs === DEFAULT_SINCE_MS && ctx.clock.monoMs() - cache.atMono < PAGE_CACHE_MS) return cache.doc;
    const nowMs = ctx.clock.nowMs();
    const since = nowMs - windowMs;
    const names = Object.keys(ctx.bus.latestLink()?.uplinks ?? {});
    const doc = buildHistory(
      {
        probes: store.probeSamples(since, nowMs),
        transitions: store.transitions(since, nowMs),
        failovers: store.failovers(since, nowMs),
        nodeActions: store.nodeActions(since, nowMs),
        buffer: store.bufferSamples(since, nowMs),
      },
      nowMs,
      windowMs,
      names,
    );
    if (windowMs === DEFAULT_SINCE_MS) cache = { atMono: ctx.clock.monoMs(), doc };
    return doc;
  }

  const route: HttpRoute = {
    method: 'GET',
    path: '/v1/history',
    auth: 'token',
    handle(_req, res, url) {
      let windowMs: number;
      try {
        windowMs = sinceFromQuery(url.searchParams.get('since'));
      } catch (e) {
        return sendError(res, 400, HistoryErrorCode.BAD_SINCE, (e as Error).message);
      }
      try {
        sendJson(res, 200, history(windowMs));
        lastError = null;
      } catch (e) {
        lastError = (e as Error).message;
        throw e;
      }
    },
  };

  return {
    name: 'history',
    async start() {
      recorder.start();
    },
    async stop() {
      recorder.stop();
    },
    status(): ComponentStatus {
      return lastError ? { state: 'degraded', message: `history read failed: ${lastError}` } : { state: 'ok' };
    },
    routes: () => [route],
    history,
  };
}
