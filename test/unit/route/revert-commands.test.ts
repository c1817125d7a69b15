/** The revert plan the helper runs after a kill -9 mid-confirm: every switched family is put back (golden text). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KernelState } from '../../../agent/route/ip-state.ts';
import type { PlanOptions } from '../../../agent/route/plan.ts';
import type { RouteTarget } from '../../../agent/route/reconcile.ts';
import { revertCommands } from '../../../agent/route/switcher.ts';
import type { UplinkConfig } from '../../../agent/config/uplinks.ts';

const OPTS: PlanOptions = { perUplinkTables: true, tableBase: 7100, routeProto: 77, mainMetric: 0 };
const uplinks = [
  { name: 'wan', interface: 'eth0', gateway: '10.0.1.1', gateway6: 'fd00:1::1', priority: 10 },
  { name: 'lte', interface: 'wwan0', gateway: '10.0.2.1', gateway6: 'fd00:2::1', priority: 20 },
] as unknown as UplinkConfig[];
const target: RouteTarget = { uplinks, active: 'lte', linkUp: {}, opts: OPTS };

function state(withLinkwardDefaults: boolean): KernelState {
  return {
    families: [4, 6],
    links: [],
    rules: [],
    routes: [
      { table: 'main', dst: 'default', gateway: '10.0.1.1', dev: 'eth0', metric: 100, protocol: 'dhcp', type: 'unicast' },
      { family: 6, table: 'main', dst: 'default', gateway: 'fe80::1', dev: 'eth0', metric: 1024, protocol: 'ra', type: 'unicast' },
      ...(withLinkwardDefaults
        ? [
            { table: 'main', dst: 'default', gateway: '10.0.1.1', dev: 'eth0', metric: 0, protocol: '77', type: 'unicast' },
            { family: 6 as const, table: 'main', dst: 'default', gateway: 'fd00:1::1', dev: 'eth0', metric: 1, protocol: '77', type: 'unicast' },
          ]
        : []),
    ],
  };
}

test("revert plan: linkward's own defaults before the switch are put back in both families", () => {
  const text = revertCommands(state(true), target, OPTS).map((c) => c.join(' '));
  assert.deepEqual(text, [
    'route replace default via 10.0.1.1 dev eth0 proto 77 metric 0',
    '-6 route replace default via fd00:1::1 dev eth0 metric 1 proto 77',
  ]);
});

test('revert plan: no linkward default before the switch → the backup default is deleted in both families (others remain)', () => {
  const text = revertCommands(state(false), target, OPTS).map((c) => c.join(' '));
  assert.deepEqual(text, ['route del default dev wwan0 metric 0', '-6 route del default dev wwan0 metric 1']);
});

test('revert plan: an IPv4-only read plans IPv4 only', () => {
  const s = { ...state(false), families: [4 as const] };
  assert.deepEqual(
    revertCommands(s, target, OPTS).map((c) => c.join(' ')),
    ['route del default dev wwan0 metric 0'],
  );
});
