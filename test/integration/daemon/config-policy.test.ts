/** The real daemon keeps the operator's failover policy: `uplinks: { policy, list }` must reach the route component intact. */
// Regression: the daemon once structuredClone'd the parsed config, which drops the (non-enumerable) policy
// attached to the uplinks list; the route component then ran on defaults (manageRoutes on, dryRun off) and
// changed the host's real default route although the config said dryRun. The uplinks below name interfaces
// that do not exist and no gateway, so even a regression resolves no uplink and issues no `ip` command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'undici';
import { startDaemon } from '../../support/daemon.ts';

interface RouteComponentStatus {
  state: string;
  details: { routesManaged: boolean; dryRun: boolean; problems: string[] };
}

test('daemon honours uplinks.policy (manageRoutes: false, dryRun: true) instead of falling back to defaults', async (t) => {
  const d = await startDaemon({
    uplinks: {
      policy: { manageRoutes: false, dryRun: true, tableBase: 9100 },
      list: [
        { name: 'wan', interface: 'lw-absent0', priority: 10 },
        { name: 'lte', interface: 'lw-absent1', priority: 20 },
      ],
    },
  });
  t.after(() => d.cleanup());
  const r = await request(`${d.baseUrl}/v1/status`);
  assert.equal(r.statusCode, 200);
  const doc = (await r.body.json()) as { components: Record<string, RouteComponentStatus> };
  const route = doc.components.route;
  assert.ok(route, `route component missing from status: ${Object.keys(doc.components).join(', ')}`);
  assert.equal(route.details.dryRun, true, 'dryRun from the config file');
  assert.equal(route.details.routesManaged, false, 'manageRoutes: false from the config file');
});
