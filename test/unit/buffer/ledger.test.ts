/** Record ledger beside buffer.db: survives a torn slot, re-bases once, and the service reports a gap by reason. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createBufferComponent } from '../../../buffer/component.ts';
import { realBufferDeps } from '../../../buffer/adapters.ts';
import { RecordLedger } from '../../../buffer/ledger.ts';
import { slotOffset } from '../../../buffer/ledger-slot.ts';
import { bufferContext } from '../../support/buffer-context.ts';

const temp = (): string => mkdtempSync(join(tmpdir(), 'buffer-ledger-'));

describe('record ledger', () => {
  it('keeps its totals across reopen, and the other slot when one is torn', () => {
    const dir = temp();
    try {
      const p = join(dir, 'l');
      const a = new RecordLedger(p);
      assert.equal(a.found, false);
      a.added(10);
      a.removed(3);
      a.added(5);
      a.close();
      const b = new RecordLedger(p);
      assert.equal(b.found, true);
      assert.deepEqual(b.totals, { added: 15, removed: 3 });
      b.close();
      // Garble the newest slot (generation 3 → slot 1): the previous one (added 10, removed 3) is used.
      const fd = openSync(p, 'r+');
      writeSync(fd, Buffer.alloc(8, 0xff), 0, 8, slotOffset(0) + 8);
      closeSync(fd);
      const c = new RecordLedger(p);
      assert.deepEqual(c.totals, { added: 10, removed: 3 });
      c.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('addedAsync shares one sync among concurrent commits, interleaves with synchronous removals, and survives reopen', async () => {
    const dir = temp();
    try {
      const p = join(dir, 'l');
      const a = new RecordLedger(p);
      const first = a.addedAsync(3); // starts a write + sync at once
      const second = a.addedAsync(4); // waits for the next one
      const third = a.addedAsync(5); // same write as the second
      a.removed(2); // synchronous while an async sync is in flight: made durable first, then written
      await Promise.all([first, second, third]);
      assert.deepEqual(a.totals, { added: 12, removed: 2 });
      assert.equal(new RecordLedger(p).expected, 10, 'a second reader sees the synced totals');
      const last = a.addedAsync(1);
      a.close(); // totals still waiting are written at close
      await last;
      const b = new RecordLedger(p);
      assert.deepEqual(b.totals, { added: 13, removed: 2 });
      b.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reconcile reports a shortfall once and re-bases on what is present', () => {
    const dir = temp();
    try {
      const l = new RecordLedger(join(dir, 'l'));
      assert.deepEqual(l.reconcile(4), { expected: 4, present: 4, missing: 0, uncommitted: 0 }); // first start: baseline
      l.added(6);
      assert.deepEqual(l.reconcile(7), { expected: 10, present: 7, missing: 3, uncommitted: 0 });
      assert.deepEqual(l.reconcile(7), { expected: 7, present: 7, missing: 0, uncommitted: 0 });
      assert.deepEqual(l.reconcile(9), { expected: 7, present: 9, missing: 0, uncommitted: 0 }); // duplicates back: no loss
      assert.equal(l.expected, 9);
      l.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the service counts records that vanished behind its back as lost (metric, status, once)', async () => {
    const dir = temp();
    const cfg = { sinks: [{ name: 's', url: 'http://127.0.0.1:9/x', protocol: 'raw' as const }], buffer: { retry: { baseMs: 3_600_000, capMs: 3_600_000 } } };
    try {
      const t1 = bufferContext(cfg, { stateDir: dir });
      const c1 = createBufferComponent(t1.ctx, realBufferDeps(t1.ctx));
      await c1.start();
      for (let i = 0; i < 10; i++) await c1.service.appendBody('s', Buffer.from(`r${i}`));
      await c1.stop();
      const db = new Database(join(dir, 'buffer.db'));
      db.prepare('DELETE FROM buf_records WHERE id > 6').run();
      db.close();
      const t2 = bufferContext(cfg, { stateDir: dir });
      const c2 = createBufferComponent(t2.ctx, realBufferDeps(t2.ctx));
      await c2.start();
      try {
        assert.match(await t2.ctx.metrics.metrics(), /linkward_buffer_lost_records_total\{reason="missing_at_open"\} 4\n/);
        assert.equal(c2.status().state, 'degraded');
        assert.match(c2.status().message ?? '', /4 acknowledged record\(s\) missing at start \(missing_at_open: expected 10, found 6\)/);
      } finally {
        await c2.stop();
      }
      const t3 = bufferContext(cfg, { stateDir: dir });
      const c3 = createBufferComponent(t3.ctx, realBufferDeps(t3.ctx));
      await c3.start();
      assert.doesNotMatch(await t3.ctx.metrics.metrics(), /linkward_buffer_lost_records_total\{/);
      await c3.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
