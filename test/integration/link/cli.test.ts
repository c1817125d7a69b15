/** Integration: the link component's routes on the real status server, and `linkward check` / `wait` spawned as real processes. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { systemClock } from '../../../agent/base/clock.ts';
import type { Component } from '../../../agent/runtime/component.ts';
import { createLinkComponent } from '../../../agent/link/component.ts';
import { LinkHealthConfigSchema } from '../../../agent/config/link.ts';
import { startRouteServer } from '../../support/route-server.ts';
import { Exit } from '../../../agent/cli/exit-codes.ts';
import { keepAlive, makeLinkContext, type LinkTestContext } from '../../support/link-context.ts';
import { carrier, light, tput } from '../../support/link-samples.ts';

/** The real `linkward` entry point. */
const ENTRY = resolve(import.meta.dirname, '../../../agent/main.ts');
const TOKEN = 'link-test-token-0123456789';
/** Dwell 0 so a test sample changes the verdict at once (dwell itself is covered by the unit tests). */
const policy = LinkHealthConfigSchema.parse({ dwell: { enterS: 0, exitS: 0 }, damping: { enabled: false } });
/** Upper bound for one CLI process (start + one request); generous for a loaded 2-core CI machine. */
const CLI_TIMEOUT_MS = 20_000;

interface Served {
  ctx: LinkTestContext;
  comp: Component;
  address: string;
  close(): Promise<void>;
}

async function serve(listen = '127.0.0.1:0'): Promise<Served> {
  const ctx = makeLinkContext({ uplinks: [{ name: 'wan' }, { name: 'lte', priority: 200 }] }, { clock: systemClock });
  const comp = keepAlive(createLinkComponent(ctx, { health: policy }));
  await comp.start();
  const server = await startRouteServer({ listen, log: ctx.log, metrics: ctx.metrics, token: TOKEN, routes: () => comp.routes?.() ?? [] });
  return {
    ctx,
    comp,
    address: server.address,
    async close() {
      await server.close();
      await comp.stop();
      ctx.cleanup();
    },
  };
}

let cfgPath = '';
let srv: Served;
before(async () => {
  srv = await serve();
  cfgPath = join(srv.ctx.stateDir, 'cli.yaml');
  writeFileSync(cfgPath, '{}\n');
});
after(() => srv.close());

function cliEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.LINKWARD_ADDRESS;
  delete env.LINKWARD_TOKEN;
  delete env.LINKWARD_CONFIG;
  return env;
}

function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res) => {
    execFile(process.execPath, [ENTRY, '--config', cfgPath, ...args], { timeout: CLI_TIMEOUT_MS, env: cliEnv() }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      res({ code, stdout, stderr });
    });
  });
}

const check = (...args: string[]) => cli(['check', '--address', srv.address, ...args]);

test('check: unknown before the first measurement → 2, with the reason', async () => {
  const r = await check();
  assert.equal(r.code, Exit.DOWN, r.stderr);
  assert.match(r.stdout, /^link unknown \(wan\): no measurement yet/);
});

test('check follows the daemon verdict: healthy 0, degraded 1, down 2; narrowing and max-age', async () => {
  const now = Date.now();
  srv.ctx.bus.emit('sample', light('wan', now - 5_000));
  assert.equal((await check()).code, Exit.OK);
  const json = await check('--json');
  assert.equal(json.code, Exit.OK);
  assert.equal((JSON.parse(json.stdout) as { verdict: string }).verdict, 'healthy');
  // Narrower thresholds: download not measured yet → degraded (1); then measured.
  const notMeasured = await check('--min-down', '10');
  assert.equal(notMeasured.code, Exit.DEGRADED);
  assert.match(notMeasured.stdout, /down=not measured/);
  srv.ctx.bus.emit('sample', tput('wan', now - 4_000, 48.2, 9.5));
  assert.equal((await check('--min-down', '10', '--min-up', '5', '--max-rtt', '100', '--max-loss', '1')).code, Exit.OK);
  const tooSlow = await check('--min-down', '100');
  assert.equal(tooSlow.code, Exit.DEGRADED);
  assert.match(tooSlow.stdout, /down=48\.2Mbps<100/);
  assert.equal((await check('--max-age', '60')).code, Exit.OK);
  const stale = await check('--max-age', '1');
  assert.equal(stale.code, Exit.DOWN);
  assert.match(stale.stdout, /stale: last measurement \d+(\.\d)?s ago>1/);
  // Daemon verdicts.
  srv.ctx.bus.emit('sample', light('wan', Date.now(), { rttP95Ms: 412, lossPercent: 4 }));
  const degraded = await check();
  assert.equal(degraded.code, Exit.DEGRADED);
  assert.match(degraded.stdout, /rtt_p95=412ms>250 loss=4%>3/);
  srv.ctx.bus.emit('sample', carrier('wan', Date.now(), false));
  assert.equal((await check()).code, Exit.DOWN);
  // A specific uplink, and an unknown one.
  assert.equal((await check('--uplink', 'lte')).code, Exit.DOWN);
  // The carrier value is kept until a sample reports it again (a light probe alone does not clear it).
  srv.ctx.bus.emit('sample', light('wan', Date.now()));
  assert.equal((await check()).code, Exit.DOWN);
  srv.ctx.bus.emit('sample', light('wan', Date.now(), { carrier: true }));
  assert.equal((await check()).code, Exit.OK);
});

test('check: daemon unreachable → 3; invalid option → 2', async () => {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const r = await cli(['check', '--address', `127.0.0.1:${port}`]);
  assert.equal(r.code, Exit.UNREACHABLE);
  assert.match(r.stderr, /not reachable/);
  assert.equal((await check('--min-down', 'fast')).code, Exit.DOWN);
});

test('HTTP: /readyz/link is public (200/503 JSON), bad query → 400, /v1/link needs the token', async () => {
  const base = `http://${srv.address}`;
  const ok = await fetch(`${base}/readyz/link`);
  assert.equal(ok.status, 200);
  assert.equal(((await ok.json()) as { verdict: string }).verdict, 'healthy');
  const narrow = await fetch(`${base}/readyz/link?minDown=1000&maxRtt=10`);
  assert.equal(narrow.status, 503);
  const body = (await narrow.json()) as { verdict: string; reasons: string[] };
  assert.equal(body.verdict, 'degraded');
  assert.deepEqual(body.reasons, ['down=48.2Mbps<1000', 'rtt_p95=40ms>10']);
  const bad = await fetch(`${base}/readyz/link?maxRtt=-3`);
  assert.equal(bad.status, 400);
  assert.equal(((await bad.json()) as { error: { code: string } }).error.code, 'LW_LINK_BAD_QUERY');
  assert.equal((await fetch(`${base}/v1/link`)).status, 401);
  const v1 = await fetch(`${base}/v1/link`, { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(v1.status, 200);
  const doc = (await v1.json()) as { snapshot: { node: string; uplinks: Record<string, unknown> }; recentTransitions: unknown[] };
  assert.equal(doc.snapshot.node, 'healthy');
  assert.deepEqual(Object.keys(doc.snapshot.uplinks).sort(), ['lte', 'wan']);
  assert.ok(doc.recentTransitions.length > 0);
});

test('wait: tolerates a daemon that starts late, exits 0 once healthy', async (t) => {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as { port: number }).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const started = Date.now();
  const child = spawn(process.execPath, [ENTRY, '--config', cfgPath, 'wait', '--address', `127.0.0.1:${port}`, '--timeout', '30s', '--interval', '200ms'], {
    env: cliEnv(),
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number>((r) => child.on('exit', (code) => r(code ?? -1)));
  t.after(() => child.kill('SIGKILL'));
  await new Promise((r) => setTimeout(r, 1_500));
  const late = await serve(`127.0.0.1:${port}`);
  t.after(() => late.close());
  await new Promise((r) => setTimeout(r, 1_000));
  let early: number | null = null;
  void exited.then((c) => (early ??= c));
  assert.equal(early, null, `wait must not exit while the link is unknown: ${stderr}`);
  late.ctx.bus.emit('sample', light('wan', Date.now()));
  const code = await exited;
  assert.equal(code, Exit.OK, stderr);
  assert.match(stderr, /waiting for the daemon/);
  assert.match(stderr, /link unknown/);
  assert.match(stderr, /link healthy/);
  assert.ok(Date.now() - started < 30_000);
});

test('wait: times out with exit 2 when the link never gets healthy', async () => {
  srv.ctx.bus.emit('sample', light('wan', Date.now(), { reachable: false, targetsUp: 0 }));
  const t0 = Date.now();
  const r = await cli(['wait', '--address', srv.address, '--timeout', '1s', '--interval', '200ms']);
  assert.equal(r.code, Exit.DOWN, r.stderr);
  assert.match(r.stderr, /timed out after 1s waiting for healthy/);
  assert.ok(Date.now() - t0 < 15_000);
  // --until degraded is satisfied by degraded.
  srv.ctx.bus.emit('sample', light('wan', Date.now(), { lossPercent: 5 }));
  const d = await cli(['wait', '--address', srv.address, '--until', 'degraded', '--timeout', '5s']);
  assert.equal(d.code, Exit.OK, d.stderr);
});

test('check with --address never reads the config (exec probes stay cheap); without it, a bad config is exit 2', async () => {
  const bad = join(srv.ctx.stateDir, 'bad.yaml');
  writeFileSync(bad, 'server: { listen: 7 }\nnot_a_key: true\n');
  const run = (args: string[]) =>
    new Promise<{ code: number; stdout: string; stderr: string }>((res) => {
      execFile(process.execPath, [ENTRY, '--config', bad, ...args], { timeout: CLI_TIMEOUT_MS, env: cliEnv() }, (err, stdout, stderr) =>
        res({ code: err ? Number(err.code) : 0, stdout, stderr }),
      );
    });
  const withAddress = await run(['check', '--address', srv.address]);
  // Whatever the verdict the earlier tests left, it is a verdict from the daemon, not a config error.
  assert.match(withAddress.stdout, /^link (healthy|degraded|down|unknown)/, withAddress.stderr);
  assert.equal(withAddress.stderr, '');
  const fromConfig = await run(['check']);
  assert.equal(fromConfig.code, Exit.CONFIG_INVALID);
  assert.match(fromConfig.stderr, /not_a_key|server\.listen/);
});
