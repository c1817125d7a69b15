/** Salvage: a buffer file with a damaged page is quarantined at start and its readable records copied over; also by CLI. */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { closeSync, existsSync, mkdtempSync, openSync, readdirSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createBufferComponent } from '../../../buffer/component.ts';
import { realBufferDeps } from '../../../buffer/adapters.ts';
import { bufferContext } from '../../support/buffer-context.ts';
import { serveRoutes } from '../../support/buffer-http.ts';
import { CLI as MAIN } from '../../support/daemon.ts';

/** Records acknowledged before the damage (the case). */
const RECORDS = 2_000;
const TOKEN = 'salvage-test-token-0123456789abcdef';
const cfg = { sinks: [{ name: 's', url: 'http://127.0.0.1:9/none', protocol: 'ndjson' as const }], buffer: { retry: { baseMs: 3_600_000, capMs: 3_600_000 } } };

/** Overwrites one leaf page of buf_records in the middle of the file (the rows on it become unreadable). */
function damageLeafPage(file: string): void {
  const db = new Database(file, { readonly: true });
  const pageSize = Number(db.pragma('page_size', { simple: true }));
  const leaves = (db.prepare("SELECT pageno FROM dbstat WHERE name = 'buf_records' AND pagetype = 'leaf' ORDER BY pageno").all() as { pageno: number }[]).map(
    (r) => r.pageno,
  );
  db.close();
  assert.ok(leaves.length > 4, `enough leaf pages (${leaves.length})`);
  const fd = openSync(file, 'r+');
  writeSync(fd, Buffer.alloc(pageSize, 0x5a), 0, pageSize, (leaves[Math.floor(leaves.length / 2)]! - 1) * pageSize);
  closeSync(fd);
}

describe('salvage of a damaged buffer file', () => {
  it('at quarantine: readable records are copied (counted), the rest is reported lost; the CLI salvages a file it is given', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'buffer-salvage-'));
    const other = mkdtempSync(join(tmpdir(), 'buffer-salvage-cli-'));
    try {
      const t1 = bufferContext(cfg, { stateDir: dir });
      const c1 = createBufferComponent(t1.ctx, realBufferDeps(t1.ctx));
      await c1.start();
      for (let i = 0; i < RECORDS; i += 100)
        await Promise.all(
          Array.from({ length: 100 }, (_, k) => c1.service.appendBody('s', Buffer.from(`{"n":${i + k}}`), { contentType: 'application/x-ndjson' })),
        );
      await c1.stop();
      damageLeafPage(join(dir, 'buffer.db'));

      const t2 = bufferContext(cfg, { stateDir: dir });
      const c2 = createBufferComponent(t2.ctx, realBufferDeps(t2.ctx));
      await c2.start();
      let copied: number;
      let aside: string;
      try {
        const svc = c2.service;
        assert.ok(svc.movedAside && existsSync(svc.movedAside), 'the damaged file is kept for inspection');
        aside = svc.movedAside;
        const sv = svc.recovery!.salvaged!;
        copied = sv.copied;
        assert.ok(copied > RECORDS * 0.9 && copied < RECORDS, `most records copied (${copied}), the damaged page's not`);
        assert.ok(sv.unreadable > 0);
        assert.equal(svc.store!.usage().records, copied);
        const lines = svc.store!.listRecords('s', RECORDS).map((r) => (JSON.parse(Buffer.from(r.body).toString()) as { n: number }).n);
        assert.deepEqual(
          lines,
          [...lines].sort((a, b) => a - b),
          'original order kept',
        );
        assert.deepEqual(
          svc.recovery!.losses.map((l) => [l.reason, l.records, l.expected, l.present]),
          [['quarantined', RECORDS - copied, RECORDS, copied]],
        );
        const m = await t2.ctx.metrics.metrics();
        assert.match(m, new RegExp(`linkward_buffer_salvaged_records_total ${copied}\\n`));
        assert.match(m, new RegExp(`linkward_buffer_lost_records_total\\{reason="quarantined"\\} ${RECORDS - copied}\\n`));
        assert.match(c2.status().message ?? '', /acknowledged record\(s\) missing at start \(quarantined/);
        process.stdout.write(`# salvage at quarantine: ${copied} of ${RECORDS} copied, ${RECORDS - copied} lost (reported), ${sv.unreadable} ids unreadable\n`);
      } finally {
        await c2.stop();
      }

      // An operator brings the quarantined file to another node's buffer.
      const t3 = bufferContext(cfg, { stateDir: other });
      const c3 = createBufferComponent(t3.ctx, realBufferDeps(t3.ctx));
      await c3.start();
      const srv = await serveRoutes(c3.routes!(), TOKEN);
      try {
        const out = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
          execFile(
            process.execPath,
            [MAIN, 'buffer', 'salvage', aside, '--address', srv.base, '--token', TOKEN],
            { env: { ...process.env, LINKWARD_CONFIG: '' }, timeout: 20_000 },
            (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
          );
        });
        assert.equal(out.code, 0, out.stderr);
        assert.match(out.stdout, new RegExp(`^salvaged ${copied} record\\(s\\); \\d+ row\\(s\\) unreadable\\n$`));
        assert.equal(c3.service.store!.usage().records, copied);
        const live = await new Promise<{ code: number; stderr: string }>((resolve) => {
          execFile(
            process.execPath,
            [MAIN, 'buffer', 'salvage', join(other, 'buffer.db'), '--address', srv.base, '--token', TOKEN],
            { env: { ...process.env, LINKWARD_CONFIG: '' }, timeout: 20_000 },
            (err, _o, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stderr }),
          );
        });
        assert.notEqual(live.code, 0);
        assert.match(live.stderr, /is the live buffer file/);
      } finally {
        await srv.close();
        await c3.stop();
      }
      assert.ok(readdirSync(dir).some((f) => f.startsWith('buffer.db.corrupt-')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
      rmSync(other, { recursive: true, force: true });
    }
  });
});
