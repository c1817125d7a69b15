/** The ledger file's write rule: the newest durable slot is never overwritten, whatever is written before a sync. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerFile } from '../../../buffer/ledger-file.ts';
import { HEAD_BYTES, newestSlot, NO_GROUP, SLOT_BYTES, slotOffset } from '../../../buffer/ledger-slot.ts';

const totals = (added: number) => ({ added, removed: 0 });

describe('ledger file', () => {
  it('writes go to the position that is not the newest durable slot; a sync with no later write moves it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'buffer-ledger-file-'));
    try {
      const path = join(dir, 'l');
      const f = new LedgerFile(path);
      const slotBytes = (pos: number): Buffer => readFileSync(path).subarray(slotOffset(pos), slotOffset(pos) + SLOT_BYTES);
      f.write(totals(1), NO_GROUP);
      f.syncNow(); // durable at position 0
      const durable = Buffer.from(slotBytes(0));
      f.write(totals(2), NO_GROUP); // position 1, not synced
      f.write(totals(3), NO_GROUP); // position 1 again: position 0 is still the newest durable slot
      assert.deepEqual(slotBytes(0), durable);
      assert.equal(newestSlot(readFileSync(path).subarray(0, HEAD_BYTES))?.totals.added, 3);
      await new Promise<void>((r) => f.syncAsync(r)); // position 1 durable now
      assert.equal(f.dirty, false);
      f.write(totals(4), NO_GROUP); // so this one goes to position 0
      assert.equal(newestSlot(readFileSync(path).subarray(0, HEAD_BYTES))?.pos, 0);
      // a write during an async sync: that sync does not make it durable, a later one does
      const running = new Promise<void>((r) => f.syncAsync(r));
      f.write(totals(5), NO_GROUP);
      await running;
      assert.equal(f.dirty, true, 'written after the sync started');
      f.close();
      const again = new LedgerFile(path);
      assert.equal(again.opened?.totals.added, 5, 'close syncs what was written');
      again.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
