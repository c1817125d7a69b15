/** Disk full (state dir on a small tmpfs) and a corrupt file at start: no crash, drops counted, recovery. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, statfsSync, statSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { createBufferComponent } from '../../../buffer/component.ts';
import { realBufferDeps } from '../../../buffer/adapters.ts';
import { bufferContext } from '../../support/buffer-context.ts';
import { serveRoutes } from '../../support/buffer-http.ts';
import { startReceiver } from '../../support/buffer-receiver.ts';
import { fillDisk, withTmpfs } from '../../support/tmpfs.ts';

/** Size of the test file system: small enough to fill in milliseconds. */
const TMPFS_SIZE = '8m';
const RECORD = Buffer.alloc(8 * 1024, 0x41);
/** Records stored before the disk fills: 1.6 MB, so draining them gives back more than the ingest margin. */
const BEFORE_FULL = 200;

describe('disk full on a tmpfs state dir', () => {
  const tmpfs = withTmpfs('buffer-tmpfs-', TMPFS_SIZE);

  const cases = [
    ['reject-new', false],
    ['reject-new', true],
    ['drop-oldest', false],
    ['drop-oldest', true],
  ] as const;
  for (const [policy, writerThread] of cases)
    it(`${policy}: never crashes, answers 507 or evicts (counted as disk_full), drains without a re-send loop and takes ingest again while the disk stays full (writerThread=${writerThread})`, async () => {
      const rx = await startReceiver(() => 503);
      const stateDir = join(tmpfs(), `${policy}-${writerThread}`);
      mkdirSync(stateDir);
      const t = bufferContext(
        { sinks: [{ name: 'd', url: rx.url, protocol: 'raw' }], buffer: { policy, retry: { baseMs: 60_000, capMs: 60_000 }, commit: { writerThread } } },
        { stateDir },
      );
      const comp = createBufferComponent(t.ctx, realBufferDeps(t.ctx));
      await comp.start();
      const srv = await serveRoutes(comp.routes!());
      const post = async (): Promise<number> => {
        const r = await request(`${srv.base}/v1/ingest/d`, { method: 'POST', body: RECORD });
        await r.body.dump();
        return r.statusCode;
      };
      const metric = async (re: RegExp): Promise<number> => Number(re.exec(await t.ctx.metrics.metrics())?.[1] ?? 0);
      const filler = join(tmpfs(), 'filler');
      try {
        for (let i = 0; i < BEFORE_FULL; i++) assert.equal(await post(), 202);
        fillDisk(filler);
        // Post until the full disk shows (a 507 or a disk_full eviction). Not a fixed count: the WAL keeps its
        // high-water size, so a few hundred KB may still fit in room SQLite already holds (seen once with the
        // writer thread: 100 posts all stored). 100 more after that, as before.
        const codes: number[] = [];
        const diskFullSeen = async (): Promise<boolean> =>
          codes.includes(507) || (await metric(/linkward_buffer_dropped_records_total\{sink="d",reason="disk_full"\} (\d+)/)) > 0;
        for (let i = 0; i < 2_000 && !(await diskFullSeen()); i++) codes.push(await post());
        for (let i = 0; i < 100; i++) codes.push(await post());
        assert.ok(
          codes.every((c) => c === 202 || c === 507),
          `unexpected codes ${[...new Set(codes)].join(',')}`,
        );
        if (policy === 'reject-new') assert.ok(codes.includes(507), 'reject-new answers 507 on a full disk');
        const diskDrops = await metric(/linkward_buffer_dropped_records_total\{sink="d",reason="disk_full"\} (\d+)/);
        assert.ok(diskDrops > 0, 'drops on disk full are counted');
        assert.notEqual(comp.status().state, 'error');
        // The upstream comes back; the filler stays, and clients keep posting (as in the field): the buffer must
        // record its acknowledgements, drain and make room by itself.
        const stored = comp.service.store!.usage().records;
        rx.setPolicy(() => 204);
        comp.service.flush(null, true);
        let posting = true;
        const during: number[] = [];
        const poster = (async () => {
          while (posting) during.push(await post());
        })();
        const end = Date.now() + 30_000;
        while (rx.accepted().length < stored && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
        posting = false;
        await poster;
        assert.ok(
          rx.accepted().length >= stored,
          `the backlog stored on the full disk is delivered while clients keep posting (${rx.accepted().length}/${stored}, ${during.length} posts meanwhile)`,
        );
        while (comp.service.store!.usage().records > 0 && Date.now() < end + 10_000) await new Promise((r) => setTimeout(r, 50));
        const files = (): string => JSON.stringify(readdirSync(stateDir).map((f) => [f, statSync(join(stateDir, f)).size]));
        assert.equal(
          comp.service.store!.usage().records,
          0,
          `backlog drained with the disk still full: ${JSON.stringify([comp.service.store!.usage(), comp.service.forwarders.get('d')!.status(), rx.received.length])} ${files()}`,
        );
        const accepted = rx.accepted();
        const keys = new Set(accepted.map((r) => r.key));
        assert.equal(keys.size, accepted.length, 'no batch delivered twice (no re-send loop)');
        assert.equal(
          await metric(/linkward_buffer_sent_records_total\{sink="d"\} (\d+)/),
          accepted.length,
          'sent_records_total counts acknowledged deliveries',
        );
        // Ingest resumes with the filler still there: the drained records gave their space back.
        let first = 0;
        const resumeEnd = Date.now() + 10_000;
        while ((first = await post()) !== 202 && Date.now() < resumeEnd) await new Promise((r) => setTimeout(r, 100));
        assert.equal(first, 202, `ingest resumes while the disk stays full: ${files()}`);
        for (let i = 0; i < 10; i++) assert.equal(await post(), 202, 'ingest keeps working');
        unlinkSync(filler);
        for (let i = 0; i < 20; i++) assert.equal(await post(), 202, 'and once space returns');
        const end2 = Date.now() + 30_000;
        while (comp.service.store!.usage().records > 0 && Date.now() < end2) await new Promise((r) => setTimeout(r, 50));
        assert.equal(comp.service.store!.usage().records, 0);
        t.ctx.log.info({ codes: codes.filter((c) => c === 507).length, diskDrops }, 'disk full run');
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

describe('disk filled by the buffer itself (issue 12: acknowledgements could not be recorded)', () => {
  const tmpfs = withTmpfs('buffer-tmpfs-', TMPFS_SIZE);

  for (const policy of ['reject-new', 'drop-oldest'] as const)
    it(`${policy}: merged batches drain while clients keep posting, each delivered once, sent counted after the ack is stored`, async () => {
      const rx = await startReceiver(() => 503);
      const stateDir = join(tmpfs(), policy);
      mkdirSync(stateDir);
      const t = bufferContext(
        { sinks: [{ name: 'd', url: rx.url, protocol: 'ndjson', compression: 'none' }], buffer: { policy, retry: { baseMs: 60_000, capMs: 60_000 } } },
        { stateDir },
      );
      const comp = createBufferComponent(t.ctx, realBufferDeps(t.ctx));
      await comp.start();
      const srv = await serveRoutes(comp.routes!());
      const line = Buffer.from(`${JSON.stringify({ pad: 'A'.repeat(8000) })}\n`);
      const post = async (): Promise<number> => {
        const r = await request(`${srv.base}/v1/ingest/d`, { method: 'POST', body: line, headers: { 'content-type': 'application/x-ndjson' } });
        await r.body.dump();
        return r.statusCode;
      };
      const lines = (): number => rx.accepted().reduce((n, r) => n + r.body.toString().trim().split('\n').length, 0);
      try {
        // Fill the tmpfs with the buffer itself (upstream down) until ingest answers 507 or evicts on disk full.
        let code = 202;
        for (let i = 0; i < 5_000 && code === 202; i++) {
          code = await post();
          if (policy === 'drop-oldest' && /reason="disk_full"/.test(await t.ctx.metrics.metrics())) break;
        }
        const stored = comp.service.store!.usage().records;
        rx.setPolicy(() => 204);
        comp.service.flush(null, true);
        let posting = true;
        const codes: number[] = [];
        const poster = (async () => {
          while (posting) codes.push(await post());
        })();
        const end = Date.now() + 30_000;
        while (lines() < stored && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
        // Keep posting a little: ingest must be answered 202 again while the tmpfs stays small.
        const resumeEnd = Date.now() + 10_000;
        while (!codes.slice(-20).every((c) => c === 202) && Date.now() < resumeEnd) await new Promise((r) => setTimeout(r, 50));
        posting = false;
        await poster;
        // what the buffer was doing, so a stalled drain in CI can be diagnosed from the message alone
        const state = (): string =>
          JSON.stringify({
            status: comp.status(),
            upstreamRequests: rx.accepted().length,
            lastIngestCodes: codes.slice(-20),
            files: readdirSync(stateDir).map((f) => [f, statSync(join(stateDir, f)).size]),
            freeBytes: ((s) => s.bavail * s.bsize)(statfsSync(stateDir)),
            spaceShort: comp.service.store!.spaceShort(),
          });
        assert.ok(lines() >= stored, `backlog delivered: ${lines()}/${stored}; ${state()}`);
        const perKey = new Map<string, number>();
        for (const r of rx.accepted()) perKey.set(r.key!, (perKey.get(r.key!) ?? 0) + 1);
        assert.equal(Math.max(...perKey.values()), 1, 'no batch delivered twice');
        assert.ok(
          codes.slice(-20).every((c) => c === 202),
          `ingest answered 202 again: last codes ${codes.slice(-20).join(',')}`,
        );
        const end2 = Date.now() + 30_000;
        while (comp.service.store!.usage().records > 0 && Date.now() < end2) await new Promise((r) => setTimeout(r, 50));
        assert.equal(comp.service.store!.usage().records, 0);
        const sent = Number(/linkward_buffer_sent_records_total\{sink="d"\} (\d+)/.exec(await t.ctx.metrics.metrics())?.[1]);
        assert.equal(sent, lines(), 'sent_records_total equals the records the upstream took');
        t.ctx.log.info({ stored, posts: codes.length }, 'self-filled disk run');
      } finally {
        await srv.close();
        await comp.stop();
        await rx.close();
        t.cleanup();
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
      const comp = createBufferComponent(t.ctx, realBufferDeps(t.ctx));
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
