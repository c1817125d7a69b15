/** Disk full (state dir on a small tmpfs) and a corrupt file at start: no crash, drops counted, recovery. */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, readdirSync, statSync, mkdtempSync, openSync, rmdirSync, rmSync, unlinkSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { run } from '../../../agent/exec.ts';
import { createBufferComponent } from '../../../buffer/component.ts';
import { bufferContext } from '../../support/buffer-context.ts';
import { serveRoutes } from '../../support/buffer-http.ts';
import { startReceiver } from '../../support/buffer-receiver.ts';

/** Size of the test file system: small enough to fill in milliseconds. */
const TMPFS_SIZE = '8m';
/** Filler write size; the last write hits ENOSPC. */
const FILL_CHUNK = 16 * 1024;
const RECORD = Buffer.alloc(8 * 1024, 0x41);

/** Writes into `path` until the file system is full; returns bytes written. */
function fill(path: string): number {
  const fd = openSync(path, 'w');
  let n = 0;
  try {
    for (let i = 0; i < 10_000; i++) {
      try {
        n += writeSync(fd, Buffer.alloc(FILL_CHUNK, 1));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === 'ENOSPC') break;
        throw e;
      }
    }
  } finally {
    closeSync(fd);
  }
  return n;
}

describe('disk full on a tmpfs state dir', () => {
  let mnt: string;
  before(async () => {
    if (process.getuid?.() !== 0) throw new Error('this test mounts a tmpfs: run it as root (CI does)');
    mnt = mkdtempSync(join(tmpdir(), 'buffer-tmpfs-'));
    await run('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE}`, 'tmpfs', mnt]);
  });
  after(async () => {
    await run('umount', [mnt]).catch(() => run('umount', ['-l', mnt]));
    rmdirSync(mnt);
  });

  for (const writerThread of [false, true]) it(`never crashes, answers 507 or evicts (counted as disk_full), and recovers when space returns (writerThread=${writerThread})`, async () => {
    const rx = await startReceiver(() => 503);
    const stateDir = join(mnt, writerThread ? 'thread' : 'main');
    mkdirSync(stateDir);
    const t = bufferContext({ sinks: [{ name: 'd', url: rx.url, protocol: 'raw' }], buffer: { retry: { baseMs: 60_000, capMs: 60_000 }, commit: { writerThread } } }, { stateDir });
    const comp = createBufferComponent(t.ctx);
    await comp.start();
    const srv = await serveRoutes(comp.routes!());
    const post = async (): Promise<number> => {
      const r = await request(`${srv.base}/v1/ingest/d`, { method: 'POST', body: RECORD });
      await r.body.dump();
      return r.statusCode;
    };
    try {
      for (let i = 0; i < 50; i++) assert.equal(await post(), 202);
      const filler = join(mnt, 'filler');
      fill(filler);
      const codes: number[] = [];
      for (let i = 0; i < 100; i++) codes.push(await post());
      assert.ok(codes.every((c) => c === 202 || c === 507), `unexpected codes ${[...new Set(codes)].join(',')}`);
      const metrics = await t.ctx.metrics.metrics();
      const diskDrops = Number(/linkward_buffer_dropped_records_total\{sink="d",reason="disk_full"\} (\d+)/.exec(metrics)?.[1] ?? 0);
      assert.ok(diskDrops > 0, 'drops on disk full are counted');
      assert.notEqual(comp.status().state, 'error');
      unlinkSync(filler);
      for (let i = 0; i < 20; i++) assert.equal(await post(), 202, 'ingest resumes once space returns');
      rx.setPolicy(() => 204);
      comp.service.flush(null, true);
      const end = Date.now() + 30_000;
      while (comp.service.store!.usage().records > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
      assert.equal(comp.service.store!.usage().records, 0, `backlog drained after recovery: ${JSON.stringify([comp.service.store!.usage(), comp.service.forwarders.get('d')!.status(), rx.received.length, readdirSync(stateDir).map((f) => [f, statSync(join(stateDir, f)).size])])}`);
      t.ctx.log.info({ codes: codes.filter((c) => c === 507).length, diskDrops }, 'disk full run');
    } finally {
      await srv.close();
      await comp.stop();
      await rx.close();
      t.cleanup();
      rmSync(join(mnt, 'filler'), { force: true });
      rmSync(stateDir, { recursive: true, force: true });
    }
  });
});

describe('corrupt buffer file at start', () => {
  it('moves it aside, starts fresh, reports it in status and metrics', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'buffer-corrupt-'));
    try {
      writeFileSync(join(dir, 'buffer.db'), Buffer.alloc(16_384, 0x33));
      const t = bufferContext({ sinks: [{ name: 'c', url: 'http://127.0.0.1:9/x', protocol: 'raw' }] }, { stateDir: dir });
      const comp = createBufferComponent(t.ctx);
      await comp.start();
      try {
        const st = comp.status();
        assert.equal(st.state, 'degraded');
        assert.match(st.message ?? '', /corrupt buffer file moved to .*buffer\.db\.corrupt-\d+/);
        assert.deepEqual(comp.notReadyReasons!(), []);
        assert.match(await t.ctx.metrics.metrics(), /linkward_buffer_corrupt_files_total 1/);
        assert.ok((await comp.service.appendBody('c', Buffer.from('x'))) > 0);
      } finally {
        await comp.stop();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
