/** In-memory per-lane (sink + priority) depth counters and drop aggregation shared by both stores. */
import type { DropResult, Usage } from './types.ts';

export interface LaneDepth {
  sink: string;
  priority: number;
  records: number;
  bytes: number;
}

/** Counts records and bytes per lane; kept in step with the stored rows by the store. */
export class LaneCounters {
  readonly #lanes = new Map<string, LaneDepth>();

  add(sink: string, priority: number, records: number, bytes: number): void {
    const key = `${sink}\u0000${priority}`;
    let l = this.#lanes.get(key);
    if (!l) {
      l = { sink, priority, records: 0, bytes: 0 };
      this.#lanes.set(key, l);
    }
    l.records += records;
    l.bytes += bytes;
    if (l.records <= 0) this.#lanes.delete(key);
  }

  clear(sink: string | null): void {
    for (const [k, l] of this.#lanes) if (sink === null || l.sink === sink) this.#lanes.delete(k);
  }

  total(): Usage {
    let records = 0;
    let bytes = 0;
    for (const l of this.#lanes.values()) {
      records += l.records;
      bytes += l.bytes;
    }
    return { records, bytes };
  }

  rows(): LaneDepth[] {
    return [...this.#lanes.values()].map((l) => ({ ...l })).sort((a, b) => (a.sink < b.sink ? -1 : a.sink > b.sink ? 1 : a.priority - b.priority)); // code-unit order: no ICU
  }
}

/** Sums deleted rows per sink. */
export function mergeDrops(rows: readonly { sink: string; size: number }[]): DropResult[] {
  const by = new Map<string, DropResult>();
  for (const r of rows) {
    const d = by.get(r.sink) ?? { sink: r.sink, records: 0, bytes: 0 };
    d.records += 1;
    d.bytes += r.size;
    by.set(r.sink, d);
  }
  return [...by.values()].sort((a, b) => (a.sink < b.sink ? -1 : a.sink > b.sink ? 1 : 0)); // code-unit order: no ICU collation
}
