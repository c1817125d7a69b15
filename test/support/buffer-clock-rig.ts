/** A buffer component on a hand-moved clock whose uplink stays down: the rig of the clock-step and suspend tests. */
import { Writable } from 'node:stream';
import type { Clock, ManualClock } from '../../agent/base/clock.ts';
import { createLogger } from '../../agent/base/log.ts';
import { createBufferComponent, type BufferComponent } from '../../buffer/component.ts';
import type { BatchSender } from '../../buffer/sender.ts';
import { MAINTENANCE_INTERVAL_MS } from '../../buffer/service.ts';
import { MemoryStore } from '../../buffer/store-memory.ts';
import type { StoredRecord } from '../../buffer/types.ts';
import { bufferContext, type BufferTestContext } from './buffer-context.ts';
import { heldStore } from './buffer-deps.ts';

export const MIN = 60_000;
export const H = 60 * MIN;
export const DAY = 24 * H;
/** Real time of the scenarios: the box's clock is set relative to it. */
export const REAL = Date.UTC(2026, 11, 5, 12);

const failing: BatchSender = { send: async () => ({ status: 503 }), close: async () => {} };
export const sink = (name: string, ttlSeconds: number) => ({ name, url: 'http://127.0.0.1:9/x', protocol: 'raw' as const, ttlSeconds });

export interface ClockRig {
  t: BufferTestContext;
  comp: BufferComponent;
  store: MemoryStore;
  /** The component's log lines (JSON) at `level` and above. */
  logs: Record<string, unknown>[];
  rows(): StoredRecord[];
  /** One maintenance tick, then the rebase it may have started. */
  tick(): Promise<void>;
  metrics(): Promise<string>;
}

export async function clockRig(
  clock: ManualClock,
  sinks = [sink('metrics', 86_400)],
  store = new MemoryStore(),
  level: 'info' | 'warn' = 'warn',
  /** What the component reads (default `clock`): e.g. a view of it without the suspended reading. */
  seen: Clock = clock,
): Promise<ClockRig> {
  const t = bufferContext({ sinks, buffer: { retry: { baseMs: 3_600_000, capMs: 3_600_000 } } }, { clock: seen });
  const logs: Record<string, unknown>[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, done) {
      logs.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  t.ctx.log = createLogger({ level, format: 'json', dest });
  const comp = createBufferComponent(t.ctx, { openStore: heldStore(store), senderFactory: () => failing, random: () => 0.5 });
  await comp.start();
  return {
    t,
    comp,
    store,
    logs,
    rows: () => store.listRecords(null, 1_000),
    tick: async () => {
      clock.advance(MAINTENANCE_INTERVAL_MS);
      await comp.service.clockSettled();
    },
    metrics: () => t.ctx.metrics.metrics(),
  };
}

export async function stopRig(r: ClockRig): Promise<void> {
  await r.comp.stop();
  r.t.cleanup();
}

/** Advances the clock (firing timers) until its wall clock reads `wallMs`. */
export function advanceTo(clock: ManualClock, wallMs: number): void {
  clock.advance(wallMs - clock.nowMs());
}

/** Ten records ingested a minute apart (the uplink is down: they stay buffered). */
export async function ingestTen(r: ClockRig, clock: ManualClock): Promise<void> {
  for (let i = 0; i < 10; i++) {
    await r.comp.service.appendBody('metrics', Buffer.from(`r${i}`));
    clock.advance(MIN);
  }
}
