/** Conntrack flush: golden argv (v4/v6), which uplink's address is flushed, and the flusher's ok / no-op / failed / missing / dry-run cases. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { UplinkSchema } from '../../../agent/config/uplinks.ts';
import { LwError } from '../../../agent/base/errors.ts';
import { createLogger } from '../../../agent/base/log.ts';
import {
  CONNTRACK_TIMEOUT_MS,
  conntrackFlushArgs,
  createConntrackFlusher,
  flushPlan,
  parseDeleted,
  renderConntrack,
  uplinkSource,
} from '../../../agent/route/conntrack.ts';
import { registerRouteMetrics } from '../../../agent/route/metrics.ts';
import { FakeConntrack } from '../../support/route-context.ts';

const NOW = 1_700_000_000_000;

function capture(): { log: ReturnType<typeof createLogger>; records: () => { level: number; msg: string }[] } {
  const lines: string[] = [];
  const dest = new Writable({
    write(c: Buffer, _e, cb) {
      lines.push(...c.toString().split('\n').filter(Boolean));
      cb();
    },
  });
  return { log: createLogger({ level: 'debug', format: 'json', dest }), records: () => lines.map((l) => JSON.parse(l) as { level: number; msg: string }) };
}

function setup(opts: { dryRun?: boolean; conntrackPath?: string; runner?: FakeConntrack } = {}) {
  const fake = opts.runner ?? new FakeConntrack();
  const registry = new Registry();
  const metrics = registerRouteMetrics(registry, ['wan', 'lte']);
  const cap = capture();
  const dry: string[] = [];
  const f = createConntrackFlusher({
    runner: fake,
    log: cap.log,
    dryRun: opts.dryRun ?? false,
    metrics,
    onDryRun: (l) => dry.push(l),
    ...(opts.conntrackPath ? { conntrackPath: opts.conntrackPath } : {}),
  });
  return { f, fake, registry, cap, dry };
}

test('golden argv: only flows source-NATed to the address (--reply-dst A --src-nat), in its family', () => {
  assert.deepEqual(renderConntrack(conntrackFlushArgs('10.0.1.2')), ['conntrack -D -f ipv4 --reply-dst 10.0.1.2 --src-nat']);
  assert.deepEqual(renderConntrack(conntrackFlushArgs('2001:db8::2')), ['conntrack -D -f ipv6 --reply-dst 2001:db8::2 --src-nat']);
  assert.equal(parseDeleted('conntrack v1.4.7 (conntrack-tools): 0 flow entries have been deleted.\n'), 0);
  assert.equal(parseDeleted('conntrack v1.4.7 (conntrack-tools): 12 flow entries have been deleted.\n'), 12);
  assert.equal(parseDeleted('conntrack v1.4.7 (conntrack-tools): Operation not permitted\n'), null);
});

test('flush plan: the uplink traffic left after a commit, the failed target after a rollback, never the address now in use', () => {
  const src: Record<string, string | null> = { wan: '10.0.1.2', lte: '10.0.2.2' };
  const of = (n: string): string | null => src[n] ?? null;
  assert.deepEqual(flushPlan('confirmed', 'wan', 'lte', of), { uplink: 'wan', src: '10.0.1.2' });
  assert.deepEqual(flushPlan('applied', 'lte', 'wan', of), { uplink: 'lte', src: '10.0.2.2' });
  assert.deepEqual(flushPlan('rolled-back', 'wan', 'lte', of), { uplink: 'lte', src: '10.0.2.2' });
  assert.equal(flushPlan('confirmed', null, 'lte', of), null, 'first activation: nothing was abandoned');
  assert.equal(flushPlan('confirmed', 'wan', 'wan', of), null);
  assert.equal(
    flushPlan('confirmed', 'wan', 'lte', (n) => (n === 'wan' ? null : '10.0.2.2')),
    null,
    'unknown address',
  );
  assert.equal(
    flushPlan('confirmed', 'wan', 'lte', () => '10.0.9.9'),
    null,
    'shared address is never flushed',
  );
});

test('uplink source: configured address, else the interface address now, else the last one seen', () => {
  const list = [UplinkSchema.parse({ name: 'wan', interface: 'eth0' }), UplinkSchema.parse({ name: 'lte', interface: 'wwan0', sourceAddress: '10.0.2.9' })];
  const kernel = { routes: [], rules: [], links: [{ name: 'eth0', up: true, lowerUp: true, addrs: ['10.0.1.2/24'] }] };
  assert.equal(uplinkSource('wan', list, kernel, {}), '10.0.1.2');
  assert.equal(uplinkSource('lte', list, kernel, {}), '10.0.2.9');
  assert.equal(uplinkSource('wan', list, { ...kernel, links: [] }, { wan: '10.0.1.7' }), '10.0.1.7', 'interface gone: last seen');
  assert.equal(uplinkSource('wan', list, null, {}), null);
  assert.equal(uplinkSource('nope', list, kernel, {}), null);
});

test('flush runs with a timeout, stdout discarded; exit 1 "0 flow entries have been deleted" is success (no-op)', async () => {
  const { f, fake, registry } = setup();
  const r = await f.flush('wan', '10.0.1.2', NOW);
  assert.deepEqual(fake.log, ['conntrack -D -f ipv4 --reply-dst 10.0.1.2 --src-nat']);
  for (const o of fake.opts) assert.deepEqual(o, { timeoutMs: CONNTRACK_TIMEOUT_MS, okCodes: [0, 1], ignoreStdout: true });
  assert.deepEqual({ result: r.result, deleted: r.deleted, atMs: r.atMs }, { result: 'ok', deleted: 0, atMs: NOW });
  const m = await registry.metrics();
  assert.match(m, /linkward_route_conntrack_flushes_total\{result="ok"\} 1/);
  assert.match(m, /linkward_route_conntrack_flushes_total\{result="missing"\} 0/);
  assert.match(m, /linkward_route_conntrack_deleted_entries_total 0/);
});

test("deleted entries are counted from conntrack's stderr; the configured path is used", async () => {
  const fake = new FakeConntrack();
  fake.deletes.set('/usr/sbin/conntrack -D -f ipv4 --reply-dst 10.0.1.2 --src-nat', 7);
  const { f, registry } = setup({ runner: fake, conntrackPath: '/usr/sbin/conntrack' });
  const r = await f.flush('wan', '10.0.1.2', NOW);
  assert.equal(r.deleted, 7);
  assert.deepEqual(r.commands, ['/usr/sbin/conntrack -D -f ipv4 --reply-dst 10.0.1.2 --src-nat']);
  assert.match(await registry.metrics(), /linkward_route_conntrack_deleted_entries_total 7/);
  assert.equal(f.status().last?.deleted, 7);
});

test('a real failure (exit 1 without the deleted line, or a timeout) is failed with LW_ROUTE_CONNTRACK_FAILED, never thrown', async () => {
  const { f, fake, registry } = setup();
  fake.failWith = { code: 1, stderr: 'conntrack v1.4.7 (conntrack-tools): Operation not permitted\n' };
  const r = await f.flush('wan', '10.0.1.2', NOW);
  assert.equal(r.result, 'failed');
  assert.equal(r.error?.code, 'LW_ROUTE_CONNTRACK_FAILED');
  assert.match(r.error?.message ?? '', /Operation not permitted/);
  fake.failWith = new LwError('LW_COMMAND_TIMEOUT', 'conntrack did not finish within 15000 ms');
  const t = await f.flush('wan', '10.0.1.2', NOW);
  assert.deepEqual([t.result, t.error?.code, t.error?.cause], ['failed', 'LW_ROUTE_CONNTRACK_FAILED', 'LW_COMMAND_TIMEOUT']);
  assert.match(await registry.metrics(), /linkward_route_conntrack_flushes_total\{result="failed"\} 2/);
});

test('missing binary (real ENOENT): not fatal, warned once with the package to install, counted, shown in status', async () => {
  const registry = new Registry();
  const cap = capture();
  // The real runner with a path that cannot exist: execFile fails with ENOENT before anything runs.
  const f = createConntrackFlusher({
    conntrackPath: '/nonexistent/linkward-test/conntrack',
    log: cap.log,
    dryRun: false,
    metrics: registerRouteMetrics(registry, []),
  });
  const a = await f.flush('wan', '10.0.1.2', NOW);
  const b = await f.flush('lte', '10.0.2.2', NOW + 1);
  assert.deepEqual([a.result, b.result], ['missing', 'missing']);
  assert.equal(a.error?.code, 'LW_ROUTE_CONNTRACK_MISSING');
  const warns = cap.records().filter((x) => x.level === 40);
  assert.equal(warns.length, 1, 'warned once');
  assert.match(warns[0]!.msg, /apt-get install conntrack/);
  assert.match(await registry.metrics(), /linkward_route_conntrack_flushes_total\{result="missing"\} 2/);
  const s = f.status();
  assert.equal(s.missing, true);
  assert.match(s.hint ?? '', /not found: install the `conntrack` package/);
});

test('dry-run logs the exact commands and runs nothing', async () => {
  const { f, fake, dry, cap, registry } = setup({ dryRun: true });
  const r = await f.flush('wan', '10.0.1.2', NOW);
  assert.deepEqual(fake.log, []);
  assert.equal(r.result, 'dry-run');
  assert.deepEqual(dry, ['conntrack -D -f ipv4 --reply-dst 10.0.1.2 --src-nat']);
  assert.deepEqual(
    cap
      .records()
      .filter((x) => x.msg === 'would run')
      .map((x) => (x as unknown as { cmd: string }).cmd),
    dry,
  );
  assert.match(await registry.metrics(), /linkward_route_conntrack_flushes_total\{result="ok"\} 0/);
});
