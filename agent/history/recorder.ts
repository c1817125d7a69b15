/** Samples the buffer's depth and the node's applied decorations from component status into the history tables, on a timer. */
import type { Clock } from '../base/clock.ts';
import type { ComponentStatus } from '../runtime/component.ts';
import type { Logger } from '../base/log.ts';
import { codeOf } from '../base/errors.ts';
import { appliedFrom, describeChange, fingerprint, isBare, parseFingerprint } from './node-actions.ts';
import type { BufferSampleRow, HistoryStore } from './store.ts';

/** Buffer depth is sampled once a minute: 1440 rows a day, enough for a 5-minute chart and cheap to store. */
export const BUFFER_SAMPLE_EVERY_MS = 60_000;
/** Node decorations are compared this often: a cordon shows on the chart within 15 s, and the status read is cheap. */
export const NODE_CHECK_EVERY_MS = 15_000;
/** Old rows are pruned this often (retention is hours, so hourly is plenty). */
export const PRUNE_EVERY_MS = 3_600_000;

/**
 * The buffer's depth from its component status details (buffer/admin.ts bufferStats), or null when the buffer does
 * not report (disabled, starting, failed): no row is better than a row claiming an empty buffer.
 */
export function bufferSampleFrom(status: ComponentStatus | undefined, nowMs: number): BufferSampleRow | null {
  const d = status?.details as
    | { usage?: { records?: unknown; bytes?: unknown }; lanes?: { oldestAgeSeconds?: unknown }[]; sinks?: { attempts?: unknown }[] }
    | undefined;
  if (!d?.usage || typeof d.usage.records !== 'number') return null;
  const ages = (d.lanes ?? []).map((l) => l.oldestAgeSeconds).filter((a): a is number => typeof a === 'number' && Number.isFinite(a));
  const failing = (d.sinks ?? []).some((s) => typeof s.attempts === 'number' && s.attempts > 0);
  return {
    atMs: nowMs,
    records: d.usage.records,
    bytes: typeof d.usage.bytes === 'number' ? d.usage.bytes : 0,
    oldestAgeS: ages.length > 0 ? Math.max(...ages) : null,
    sinkFailing: failing,
  };
}

export interface RecorderDeps {
  store: HistoryStore;
  clock: Clock;
  log: Logger;
  /** Current status of every component (the daemon's view), read on each tick. */
  components(): Record<string, ComponentStatus>;
}

/** The recorder: `tick(nowMs)` does one round (tests call it directly); `start()` schedules rounds on the clock. */
export class HistoryRecorder {
  readonly #d: RecorderDeps;
  #lastBufferMs = Number.NEGATIVE_INFINITY;
  #lastPruneMs = Number.NEGATIVE_INFINITY;
  #cancel: (() => void) | null = null;
  #failures = 0;

  constructor(d: RecorderDeps) {
    this.#d = d;
  }

  /** One round: node check always, buffer sample and pruning when due. Disk errors are logged, never thrown. */
  tick(nowMs: number): void {
    try {
      const comps = this.#d.components();
      this.#checkNode(comps.node, nowMs);
      if (nowMs - this.#lastBufferMs >= BUFFER_SAMPLE_EVERY_MS) {
        const s = bufferSampleFrom(comps.buffer, nowMs);
        if (s) this.#d.store.recordBuffer(s);
        this.#lastBufferMs = nowMs;
      }
      if (nowMs - this.#lastPruneMs >= PRUNE_EVERY_MS) {
        this.#d.store.prune(nowMs);
        this.#lastPruneMs = nowMs;
      }
      this.#failures = 0;
    } catch (e) {
      // one log line per failure streak: a full disk must not flood the journal every 15 s
      if (this.#failures++ === 0) this.#d.log.warn({ err: e, code: codeOf(e) }, 'history: recording failed; charts will have a gap');
    }
  }

  #checkNode(status: ComponentStatus | undefined, nowMs: number): void {
    const applied = appliedFrom(status?.details);
    if (applied === null) return;
    const fp = fingerprint(applied);
    const prevText = this.#d.store.lastApplied();
    if (prevText === fp) return;
    const prev = parseFingerprint(prevText);
    if (prev === null && isBare(applied)) return;
    const summary = describeChange(prev, applied);
    if (summary === '') return;
    this.#d.store.recordNodeAction({ atMs: nowMs, summary, applied: fp });
    this.#d.log.info({ summary }, 'history: node decorations changed');
  }

  start(): void {
    const loop = (): void => {
      this.tick(this.#d.clock.nowMs());
      this.#cancel = this.#d.clock.setTimer(NODE_CHECK_EVERY_MS, loop);
    };
    loop();
  }

  stop(): void {
    this.#cancel?.();
    this.#cancel = null;
  }
}
