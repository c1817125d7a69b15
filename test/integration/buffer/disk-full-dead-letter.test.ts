/** A record the upstream refuses for good, on a full disk: dropped and counted once, never re-sent in a loop. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { request } from 'undici';
import { createBufferComponent } from '../../../buffer/component.ts';
import { realBufferDeps } from '../../../buffer/adapters.ts';
import { bufferContext } from '../../support/buffer-context.ts';
import { serveRoutes } from '../../support/buffer-http.ts';
import { startReceiver } from '../../support/buffer-receiver.ts';
import { fillDisk, withTmpfs } from '../../support/tmpfs.ts';

/** Room for the record, its sealed copy, the ballast and the WAL before the filler takes the rest. */
const TMPFS_SIZE = '16m';
/** Larger than the 2 MiB ballast: its dead-letter copy cannot fit even once the ballast is released. */
const RECORD_BYTES = 3 * 1024 * 1024;
/** How long the forwarder is watched after the refusal: a re-send loop (one try per 200 ms) shows within it. */
const WATCH_MS = 3_000;

describe('permanent refusal on a full disk (issue 12: no re-send loop in any case)', () => {
  const tmpfs = withTmpfs('buffer-dead-', TMPFS_SIZE);

  it('a 3 MiB record refused with 413 whose dead letter cannot be stored is dropped as disk_full, sent once', async () => {
    const rx = await startReceiver(() => 503);
    const stateDir = join(tmpfs(), 's');
    mkdirSync(stateDir);
    const t = bufferContext({ sinks: [{ name: 'd', url: rx.url, protocol: 'raw' }], buffer: { retry: { baseMs: 60_000, capMs: 60_000 } } }, { stateDir });
    const comp = createBufferComponent(t.ctx, realBufferDeps(t.ctx));
    await comp.start();
    const srv = await serveRoutes(comp.routes!());
    const filler = join(tmpfs(), 'filler');
    const metric = async (re: RegExp): Promise<number> => Number(re.exec(await t.ctx.metrics.metrics())?.[1] ?? 0);
    try {
      const r = await request(`${srv.base}/v1/ingest/d`, { method: 'POST', body: Buffer.alloc(RECORD_BYTES, 0x42) });
      await r.body.dump();
      assert.equal(r.statusCode, 202);
      // sealed and tried once (503): the batch now waits for its retry with its copy stored
      const sealedBy = Date.now() + 10_000;
      while (rx.received.length === 0 && Date.now() < sealedBy) await new Promise((res) => setTimeout(res, 20));
      assert.equal(rx.received.length, 1);
      fillDisk(filler);
      rx.setPolicy(() => 413);
      comp.service.flush(null, true);
      await new Promise((res) => setTimeout(res, WATCH_MS));
      const refused = rx.received.filter((x) => x.status === 413).length;
      assert.equal(refused, 1, `the refused record was sent once, not in a loop: ${refused} requests answered 413 in ${WATCH_MS} ms`);
      assert.equal(comp.service.store!.usage().records, 0, 'the record is gone from the buffer');
      assert.equal(await metric(/linkward_buffer_dropped_records_total\{sink="d",reason="disk_full"\} (\d+)/), 1, 'counted as dropped for the full disk');
      assert.equal(comp.service.store!.deadLetterCount(), 0);
      // once the disk has room again, refusals are kept as dead letters as before
      rmSync(filler);
      const r2 = await request(`${srv.base}/v1/ingest/d`, { method: 'POST', body: Buffer.alloc(1024, 0x43) });
      await r2.body.dump();
      comp.service.flush(null, true);
      const deadBy = Date.now() + 10_000;
      while (comp.service.store!.deadLetterCount() === 0 && Date.now() < deadBy) await new Promise((res) => setTimeout(res, 20));
      assert.equal(comp.service.store!.deadLetterCount(), 1);
    } finally {
      await srv.close();
      await comp.stop();
      await rx.close();
      t.cleanup();
      rmSync(filler, { force: true });
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});
