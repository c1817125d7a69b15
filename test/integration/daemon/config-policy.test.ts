/** The real daemon keeps the operator's failover policy: `uplinks: { policy, list }` must reach the route component intact. */
// Regression: the daemon once structuredClone'd the parsed config, which drops the (non-enumerable) policy
// attached to the uplinks list; the route component then ran on defaults (manageRoutes on, dryRun off) and
// changed the host's real default route although the config said dryRun. Belt and braces, since CI runs as root:
// the daemon finds fake `ip` and `conntrack` first on its PATH (they only log their arguments), and the uplinks
// name interfaces that do not exist, so even a regression cannot touch the host's routes or conntrack table.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startDaemon } from '../../support/daemon.ts';

/** A directory with fake `ip` and `conntrack` that append their argv to calls.log; `ip -json ...` reads answer []. */
function fakeTools(): { dir: string; calls: () => string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'lw-fake-ip-'));
  const log = join(dir, 'calls.log');
  for (const tool of ['ip', 'conntrack']) {
    const f = join(dir, tool);
    writeFileSync(f, `#!/bin/sh\necho "${tool} $*" >> '${log}'\ncase "$*" in *-json*) echo '[]' ;; esac\nexit 0\n`);
    chmodSync(f, 0o755);
  }
  return { dir, calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean) : []) };
}

interface RouteComponentStatus {
  state: string;
  details: { routesManaged: boolean; dryRun: boolean; problems: string[] };
}

test('daemon honours uplinks.policy (manageRoutes: false, dryRun: true) instead of falling back to defaults', async (t) => {
  const tools = fakeTools();
  t.after(() => rmSync(tools.dir, { recursive: true, force: true }));
  const d = await startDaemon(
    {
      uplinks: {
        policy: { manageRoutes: false, dryRun: true, tableBase: 9100 },
        list: [
          { name: 'wan', interface: 'lw-absent0', priority: 10 },
          { name: 'lte', interface: 'lw-absent1', priority: 20 },
        ],
      },
    },
    { env: { PATH: `${tools.dir}:${process.env.PATH ?? ''}` } },
  );
  t.after(() => d.cleanup());
  const r = await request(`${d.baseUrl}/v1/status`);
  assert.equal(r.statusCode, 200);
  const doc = (await r.body.json()) as { components: Record<string, RouteComponentStatus> };
  const route = doc.components.route;
  assert.ok(route, `route component missing from status: ${Object.keys(doc.components).join(', ')}`);
  assert.equal(route.details.dryRun, true, 'dryRun from the config file');
  assert.equal(route.details.routesManaged, false, 'manageRoutes: false from the config file');
  const changes = tools.calls().filter((c) => !c.includes('-json'));
  assert.deepEqual(changes, [], 'no route, rule, link or conntrack change was even attempted');
});
