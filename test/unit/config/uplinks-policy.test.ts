/** The failover policy (`uplinks.policy` in the file) is the ordinary key `config.failover` after parsing, so no copy loses it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../../agent/config/load.ts';
import type { AgentConfig } from '../../../agent/config/schema.ts';

function parse(value: unknown): AgentConfig {
  const v = validateConfig(value);
  assert.ok(v.ok, JSON.stringify(v));
  return v.config;
}

const UPLINKS = {
  policy: { manageRoutes: false, dryRun: true, tableBase: 9100 },
  list: [
    { name: 'wan', interface: 'eth0' },
    { name: 'lte', interface: 'wwan0' },
  ],
};

test('{ policy, list } parses to config.uplinks (the list) and config.failover (the policy)', () => {
  const cfg = parse({ uplinks: UPLINKS });
  assert.deepEqual(
    cfg.uplinks.map((u) => u.name),
    ['wan', 'lte'],
  );
  assert.ok(Array.isArray(cfg.uplinks));
  assert.equal(cfg.failover.manageRoutes, false);
  assert.equal(cfg.failover.dryRun, true);
  assert.equal(cfg.failover.tableBase, 9100);
});

test('a plain uplinks list gets the default policy', () => {
  const cfg = parse({ uplinks: UPLINKS.list });
  assert.equal(cfg.failover.manageRoutes, true);
  assert.equal(cfg.failover.dryRun, false);
});

test('copies keep the policy: structuredClone, spread and JSON (the daemon once lost it in a structuredClone)', () => {
  const cfg = parse({ uplinks: UPLINKS });
  for (const copy of [structuredClone(cfg), { ...cfg }, JSON.parse(JSON.stringify(cfg)) as AgentConfig]) {
    assert.equal(copy.failover.dryRun, true);
    assert.equal(copy.failover.manageRoutes, false);
  }
});
