/** commitSwitch against a fake kernel, a fake helper and a clock the test drives: one deadline, late confirms fail, the helper and the agent never both act. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import type { Clock } from '../../../agent/base/clock.ts';
import { LwError } from '../../../agent/base/errors.ts';
import { Writable } from 'node:stream';
import { createLogger, silentLogger } from '../../../agent/base/log.ts';
import { createIpActuator } from '../../../agent/route/actuator.ts';
import type { ConfirmResult } from '../../../agent/route/confirm.ts';
import { RouteErrorCode } from '../../../agent/route/errors.ts';
import type { PlanOptions } from '../../../agent/route/plan.ts';
import type { RouteTarget } from '../../../agent/route/reconcile.ts';
import type { RevertHelper, RevertPlan } from '../../../agent/route/revert-helper.ts';
import { createRouteStore } from '../../../agent/route/store.ts';
import { commitSwitch, type SwitchDeps } from '../../../agent/route/switcher.ts';
import { routeContext, twoUplinkKernel } from '../../support/route-context.ts';

const OPTS: PlanOptions = { perUplinkTables: true, tableBase: 7100, routeProto: 77, mainMetric: 0 };
const TIMING = { confirmTimeoutMs: 5_000, revertGraceMs: 3_000 };

/**
 * A clock for a starved process: time moves only when the test says, and timers fire only when `fire()` is called
 * (a busy CPU delays them arbitrarily).
 */
class StarvedClock implements Clock {
  mono = 0;
  timers: (() => void)[] = [];
  nowMs = (): number => 1_700_000_000_000 + this.mono;
  monoMs = (): number => this.mono;
  sleep = async (): Promise<void> => undefined;
  setTimer = (_ms: number, fn: () => void): (() => void) => {
    this.timers.push(fn);
    return () => (this.timers = this.timers.filter((f) => f !== fn));
  };
  fire(): void {
    for (const f of this.timers.splice(0)) f();
  }
}

/** A helper that records what it was given; `fireNow()` does what the real one does at its deadline. */
function fakeHelper(): RevertHelper & { armed: { file: string; plan: RevertPlan }[]; disarmed: string[]; failArm: boolean; fireNow(): void } {
  const h = {
    armed: [] as { file: string; plan: RevertPlan }[],
    disarmed: [] as string[],
    failArm: false,
    async start() {},
    async arm(file: string, plan: RevertPlan) {
      if (h.failArm) throw new LwError(RouteErrorCode.HELPER_FAILED, 'helper down');
      writeFileSync(file, JSON.stringify(plan));
      h.armed.push({ file, plan });
    },
    disarm(file: string) {
      h.disarmed.push(file);
    },
    async stop() {},
    pid: () => 1,
    restarts: () => 0,
    fireNow() {
      const { file } = h.armed.at(-1)!;
      renameSync(file, file + '.reverting');
      writeFileSync(file + '.result', JSON.stringify({ by: 'helper', errors: [] }));
    },
  };
  return h;
}

function setup(
  t: { after(fn: () => void): void },
  confirm: (withinMs: number, clock: StarvedClock, helper: ReturnType<typeof fakeHelper>) => Promise<ConfirmResult>,
) {
  const ctx = routeContext();
  t.after(() => ctx.cleanup());
  const ip = twoUplinkKernel();
  const clock = new StarvedClock();
  const helper = fakeHelper();
  let shared = 50_000;
  const deps: SwitchDeps = {
    actuator: createIpActuator({ runner: ip, log: silentLogger() }),
    clock,
    log: silentLogger(),
    store: createRouteStore(ctx.stateDb),
    stateDir: ctx.stateDir,
    helper,
    sharedMono: () => shared,
    ipPath: 'ip',
    dryRun: false,
    conntrack: null,
    knownSources: () => ({}),
    confirm: (withinMs) => confirm(withinMs, clock, helper),
  };
  const target = (active: string): RouteTarget => ({ uplinks: ctx.config.uplinks, active, linkUp: {}, opts: OPTS });
  const run = () => commitSwitch(deps, target('lte'), target('wan'), { from: 'wan', to: 'lte', reason: 'failover' }, TIMING);
  const mainDev = (): string | undefined => ip.routes.find((r) => r.table === 'main' && r.dst === 'default' && r.metric === 0)?.dev;
  return { ip, clock, helper, run, mainDev, deps, setShared: (v: number) => (shared = v) };
}

test("a confirm inside the deadline commits; the plan carries one deadline on the shared clock, the helper's = deadline + grace", async (t) => {
  const s = setup(t, async (withinMs, clock) => {
    assert.equal(withinMs, 5_000);
    clock.mono += 1_200;
    return { ok: true, ms: 1_200, detail: '10.99.0.1:443' };
  });
  const out = await s.run();
  assert.equal(out.result, 'confirmed');
  assert.equal(s.mainDev(), 'wwan0');
  const { file, plan } = s.helper.armed[0]!;
  assert.equal(plan.deadlineMono, 50_000 + 5_000);
  assert.equal(plan.revertAtMono, 50_000 + 5_000 + 3_000);
  assert.equal(existsSync(file) || existsSync(file + '.agent'), false, 'plan settled (confirmed, tidied)');
  assert.equal(s.ip.log.includes('ip route del default dev wwan0 metric 0'), false, 'not reverted');
  assert.deepEqual(s.helper.disarmed, [file]);
});

test('a confirm that completes after its deadline is a failure (cause late): the agent reverts, the helper stays out', async (t) => {
  const s = setup(t, async (_w, clock) => {
    clock.mono += 120_000; // starved: the answer came, but 120 s later
    return { ok: true, ms: 120_000, detail: '10.99.0.1:443' };
  });
  const out = await s.run();
  assert.equal(out.result, 'rolled-back');
  assert.equal(out.cause, 'late');
  assert.match(out.detail, /confirmed too late.*past the 5000 ms deadline/);
  assert.equal(s.mainDev(), 'eth0', 'back on wan');
  assert.ok(s.ip.log.includes('ip route del default dev wwan0 metric 0'), `the agent ran the plan: ${s.ip.log.join('; ')}`);
  assert.equal(existsSync(s.helper.armed[0]!.file), false, 'the helper cannot take it any more');
});

test('the helper fired before the agent decided: rolled back (helper-fired), the agent does not revert a second time', async (t) => {
  const s = setup(t, async (_w, clock, helper) => {
    clock.mono += 9_000;
    helper.fireNow();
    return { ok: true, ms: 9_000, detail: '10.99.0.1:443' };
  });
  const out = await s.run();
  assert.equal(out.result, 'rolled-back');
  assert.equal(out.cause, 'helper-fired');
  assert.equal(s.ip.log.includes('ip route del default dev wwan0 metric 0'), false, `the agent did not run the plan again: ${s.ip.log.join('; ')}`);
});

test('a confirm that hangs is cut off by the deadline timer (cause timeout)', async (t) => {
  const s = setup(t, (_w, clock) => {
    clock.mono += 5_001;
    setTimeout(() => clock.fire(), 10);
    return new Promise(() => undefined);
  });
  const out = await s.run();
  assert.equal(out.cause, 'timeout');
  assert.equal(s.mainDev(), 'eth0');
});

test("an unreachable target rolls back (cause unreachable) with the confirm's own detail", async (t) => {
  const s = setup(t, async (_w, clock) => {
    clock.mono += 5_000;
    return { ok: false, ms: 5_000, detail: 'no target reached within 5000 ms (10.99.0.1:443 did not answer)' };
  });
  const out = await s.run();
  assert.equal(out.cause, 'unreachable');
  assert.match(out.detail, /did not answer/);
});

test('no helper, no switch: arming failure leaves the kernel untouched', async (t) => {
  const s = setup(t, async () => ({ ok: true, ms: 0, detail: 'x' }));
  s.helper.failArm = true;
  await assert.rejects(s.run(), (e: LwError) => e.code === RouteErrorCode.HELPER_FAILED);
  assert.equal(s.ip.log.filter((l) => / default /.test(l) && !/ table /.test(l)).length, 0);
});

test('a kernel read that turns unknown during the rollback: the revert commands ran, the outcome is still recorded (no escape)', async (t) => {
  const s = setup(t, async (_w, clock) => {
    clock.mono += 5_000;
    // from now on every `ip -json addr` read is empty (unknown), for longer than the reads retry
    s.ip.readFaults.push({ prefix: 'ip -json addr', fault: 'empty', times: 50 });
    return { ok: false, ms: 5_000, detail: 'no target reached' };
  });
  const out = await s.run();
  assert.equal(out.result, 'rolled-back');
  assert.equal(s.mainDev(), undefined, "the revert plan removed the switch's default route to the backup");
  assert.ok(
    s.ip.routes.some((r) => r.table === 'main' && r.dst === 'default' && r.dev === 'eth0'),
    "the host's own default via the primary is there",
  );
});

/** A JSON logger whose records land in `lines`. */
function capturingLogger(): { log: ReturnType<typeof createLogger>; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const dest = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const l of chunk.toString('utf8').split('\n')) if (l.trim()) lines.push(JSON.parse(l) as Record<string, unknown>);
      cb();
    },
  });
  return { log: createLogger({ level: 'info', format: 'json', dest }), lines };
}

test('the main default route cannot be set: rolled back as apply-failed, logged with LW_ROUTE_APPLY_FAILED, no confirm tried', async (t) => {
  let confirms = 0;
  const s = setup(t, async () => {
    confirms++;
    return { ok: true, ms: 1, detail: '10.99.0.1:443' };
  });
  const { log, lines } = capturingLogger();
  s.deps.log = log;
  s.ip.failures.set('ip route replace default via 10.0.2.1 dev wwan0 metric 0', 'RTNETLINK answers: Network is unreachable');
  const out = await s.run();
  assert.equal(out.result, 'rolled-back', s.ip.log.join('; '));
  assert.equal(out.cause, 'apply-failed');
  assert.match(out.detail, /could not set the default route: .*Network is unreachable/);
  assert.equal(confirms, 0);
  assert.equal(s.mainDev(), 'eth0');
  const warn = lines.find((l) => l.msg === 'switch rolled back');
  assert.equal(warn?.code, 'LW_ROUTE_APPLY_FAILED', JSON.stringify(lines.map((l) => l.msg)));
});

test('a failing per-uplink table route is not the main default: the switch goes on to its confirm', async (t) => {
  let confirms = 0;
  const s = setup(t, async (_w, clock) => {
    confirms++;
    clock.mono += 100;
    return { ok: false, ms: 100, detail: 'no target reached' };
  });
  const { log, lines } = capturingLogger();
  s.deps.log = log;
  s.ip.failures.set('ip route replace default via 10.0.2.1 dev wwan0 table', 'RTNETLINK answers: Network is unreachable');
  const out = await s.run();
  assert.ok(!s.ip.log.includes('ip route replace default via 10.0.2.1 dev wwan0 table 7101 proto 77'), 'the table route did fail');
  assert.ok(s.ip.log.includes('ip route replace default via 10.0.2.1 dev wwan0 metric 0 proto 77'), 'the main default was set');
  assert.equal(confirms, 1, `the confirm ran (${out.cause}: ${out.detail}; ip: ${s.ip.log.join('; ')})`);
  assert.equal(out.cause, 'unreachable');
  assert.equal(lines.find((l) => l.msg === 'switch rolled back')?.code, 'LW_ROUTE_CONFIRM_FAILED');
});
