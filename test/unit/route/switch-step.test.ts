/** Unit: carrying out a decided switch: state read after the confirm, set before the announce, rollbacks held down, refusals said. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { defaultRoutePolicy } from '../../../agent/config/route.ts';
import { registerRouteMetrics } from '../../../agent/route/metrics.ts';
import { initialPolicyState, withOverride, type PolicyState } from '../../../agent/route/policy.ts';
import type { RouteTarget } from '../../../agent/route/reconcile.ts';
import type { SwitchOutcome } from '../../../agent/route/switcher.ts';
import { LATE_DECISION_HOLD_DOWN_MS, switchStep, type SwitchStepDeps } from '../../../agent/route/switch-step.ts';
import { createUseRequests } from '../../../agent/route/use-requests.ts';

const T0 = 1_700_000_000_000;

function outcome(o: Partial<SwitchOutcome>): SwitchOutcome {
  return { ok: true, result: 'confirmed', detail: 'confirmed via wan', confirmMs: 300, armMs: 20, families: [4], flushConntrack: async () => undefined, ...o };
}

/** Deps around a component state; `commit` decides the outcome (and may act while the confirm "runs"). */
function harness(commit: () => Promise<SwitchOutcome>, over: Partial<SwitchStepDeps> = {}) {
  let state: PolicyState = initialPolicyState('wan');
  const announced: { name: string | null; activeThen: string | null }[] = [];
  const flushes: string[] = [];
  const deps: SwitchStepDeps = {
    policy: defaultRoutePolicy(),
    idle: false,
    routesAllowed: () => true,
    refusal: () => undefined,
    runner: { commit, afterward: () => flushes.push('flush') },
    metrics: registerRouteMetrics(new Registry(), ['wan', 'lte']),
    follower: { switched: () => undefined },
    requests: createUseRequests(),
    store: () => null,
    target: (active): RouteTarget => ({
      uplinks: [],
      active,
      linkUp: {},
      opts: { perUplinkTables: false, tableBase: 100, routeProto: 200, mainMetric: 10 },
      downByUs: [],
    }),
    state: () => state,
    setState: (s) => {
      state = s;
    },
    announce: (name) => announced.push({ name, activeThen: state.active }),
    nowMs: () => T0,
    ...over,
  };
  return {
    deps,
    announced,
    flushes,
    get state() {
      return state;
    },
    set state(s: PolicyState) {
      state = s;
    },
  };
}

test('a confirmed switch: the state listeners read at the announce is already the new one; the conntrack flush follows', async () => {
  const h = harness(async () => outcome({}));
  const why = await switchStep(h.deps, 'lte', 'failover', {});
  assert.equal(why, null);
  assert.equal(h.state.active, 'lte');
  assert.deepEqual(h.announced, [{ name: 'lte', activeThen: 'lte' }]);
  assert.deepEqual(h.flushes, ['flush']);
});

test('an override set while the confirm runs survives the commit of the switch', async () => {
  const h = harness(async () => {
    h.state = withOverride(h.state, 'lte', null); // `linkward route use lte` arrives mid-confirm
    return outcome({});
  });
  await switchStep(h.deps, 'lte', 'failover', {});
  assert.equal(h.state.active, 'lte');
  assert.equal(h.state.override?.uplink, 'lte');
});

test('a rollback holds the uplink down (briefly when the agent itself was late) and says why', async () => {
  for (const [cause, holdMs] of [
    ['unreachable', defaultRoutePolicy().holdDown],
    ['late', Math.min(defaultRoutePolicy().holdDown, LATE_DECISION_HOLD_DOWN_MS)],
  ] as const) {
    const h = harness(async () => outcome({ ok: false, result: 'rolled-back', detail: 'no answer via lte', cause }));
    const why = await switchStep(h.deps, 'lte', 'failover', {});
    assert.equal(h.state.active, 'wan');
    assert.equal(h.state.holdDownUntil.lte, T0 + holdMs, cause);
    assert.match(why ?? '', new RegExp(`switch to lte rolled back: no answer via lte; lte held down for ${holdMs / 1000}s`));
    assert.deepEqual(h.announced, [], 'nothing new to announce');
  }
});

test('routes not managed: the active uplink changes without a commit; refused: nothing changes and the reason is said', async () => {
  let commits = 0;
  const commit = async () => (commits++, outcome({}));
  const unmanaged = harness(commit, { policy: { ...defaultRoutePolicy(), manageRoutes: false }, routesAllowed: () => false });
  assert.equal(await switchStep(unmanaged.deps, 'lte', 'failover', {}), null);
  assert.equal(unmanaged.state.active, 'lte');
  assert.deepEqual(unmanaged.announced, [{ name: 'lte', activeThen: 'lte' }]);
  const refused = harness(commit, { routesAllowed: () => false, refusal: () => 'k3s is not pinned to an interface' });
  const why = await switchStep(refused.deps, 'lte', 'failover', {});
  assert.equal(refused.state.active, 'wan');
  assert.match(why ?? '', /would switch wan → lte \(failover\) but route switching is refused: k3s is not pinned/);
  assert.equal(commits, 0);
});
