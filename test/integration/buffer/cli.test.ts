/** `linkward buffer ...` as a real process against a running buffer component (readable and --json output, exit codes). */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createBufferComponent, type BufferComponent } from '../../../buffer/component.ts';
import { realBufferDeps } from '../../../buffer/adapters.ts';
import { bufferContext, type BufferTestContext } from '../../support/buffer-context.ts';
import { serveRoutes, type TestServer } from '../../support/buffer-http.ts';
import { startReceiver, type Receiver } from '../../support/buffer-receiver.ts';
import { CLI as MAIN } from '../../support/daemon.ts';

const TOKEN = 'cli-test-token-0123456789abcdef';

function cli(args: string[], base: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [MAIN, 'buffer', ...args, '--address', base, '--token', TOKEN],
      { env: { ...process.env, LINKWARD_CONFIG: '' }, timeout: 20_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

describe('linkward buffer CLI', () => {
  let rx: Receiver;
  let t: BufferTestContext;
  let comp: BufferComponent;
  let srv: TestServer;

  before(async () => {
    rx = await startReceiver(() => 400);
    t = bufferContext({
      sinks: [
        { name: 'bad', url: rx.url, protocol: 'otlp-http' },
        { name: 'held', url: rx.url, protocol: 'ndjson' },
      ],
      buffer: { flush: { pollMs: 50 } },
    });
    comp = createBufferComponent(t.ctx, realBufferDeps(t.ctx));
    await comp.start();
    srv = await serveRoutes(comp.routes!(), TOKEN);
    await comp.service.appendBody('bad', Buffer.from('refused payload'));
    const end = Date.now() + 10_000;
    while (comp.service.store!.listDeadLetters(1).length === 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    // `held` stays in the buffer: its forwarder is stopped.
    await comp.service.forwarders.get('held')!.stop();
    await comp.service.appendBody('held', Buffer.from('{"keep":1}'));
  });
  after(async () => {
    await srv.close();
    await comp.stop();
    await rx.close();
    t.cleanup();
  });

  it('stats: readable table and --json', async () => {
    const txt = await cli(['stats'], srv.base);
    assert.equal(txt.code, 0, txt.stderr);
    assert.match(txt.stdout, /buffer: 1 records/);
    assert.match(txt.stdout, /held\s+normal\s+1/);
    const js = await cli(['stats', '--json'], srv.base);
    const doc = JSON.parse(js.stdout) as { usage: { records: number }; deadLetters: number };
    assert.equal(doc.usage.records, 1);
    assert.equal(doc.deadLetters, 1);
    assert.match(await t.ctx.metrics.metrics(), /linkward_buffer_dead_letters 1/);
  });

  it('list and dead-letters show records with previews', async () => {
    const l = await cli(['list', '--sink', 'held'], srv.base);
    assert.match(l.stdout, /\{"keep":1\}/);
    const d = await cli(['dead-letters'], srv.base);
    assert.match(d.stdout, /bad\s+\S+\s+400\s+1/);
    assert.match(d.stdout, /HTTP 400/);
  });

  it('replay requires ids or --all; purge requires --yes', async () => {
    assert.equal((await cli(['replay'], srv.base)).code, 2);
    assert.equal((await cli(['purge'], srv.base)).code, 2);
    rx.setPolicy(() => 204);
    const r = await cli(['replay', '--all', '--json'], srv.base);
    assert.equal((JSON.parse(r.stdout) as { replayed: number }).replayed, 1);
    const end = Date.now() + 10_000;
    while (!rx.accepted().some((x) => x.body.toString() === 'refused payload') && Date.now() < end) await new Promise((res) => setTimeout(res, 20));
    assert.ok(
      rx.accepted().some((x) => x.body.toString() === 'refused payload'),
      'replayed dead letter delivered',
    );
    const p = await cli(['purge', '--sink', 'held', '--yes'], srv.base);
    assert.match(p.stdout, /purged 1 record/);
    assert.match(await t.ctx.metrics.metrics(), /linkward_buffer_dropped_records_total\{sink="held",reason="purged"\} 1/);
  });

  it('flush answers with the sinks; an unreachable daemon exits 3', async () => {
    const f = await cli(['flush', '--sink', 'bad'], srv.base);
    assert.match(f.stdout, /flushing: bad/);
    const u = await cli(['stats'], 'http://127.0.0.1:9');
    assert.equal(u.code, 3);
    assert.match(u.stderr, /not reachable/);
  });
});
