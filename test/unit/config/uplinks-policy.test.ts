/** The failover policy rides on the parsed uplinks list; reading it fails closed when a copy lost it. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateConfig } from '../../../agent/config/load.ts';
import { routePolicyOf } from '../../../agent/config/uplinks.ts';
import type { AgentConfig } from '../../../agent/config/schema.ts';
import { isLwError } from '../../../agent/errors.ts';

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

test('policy given as { policy, list } is what routePolicyOf returns', () => {
  const cfg = parse({ uplinks: UPLINKS });
  const p = routePolicyOf(cfg.uplinks);
  assert.equal(p.manageRoutes, false);
  assert.equal(p.dryRun, true);
  assert.equal(p.tableBase, 9100);
});

test('a plain uplinks list gets the default policy', () => {
  const cfg = parse({ uplinks: UPLINKS.list });
  assert.equal(routePolicyOf(cfg.uplinks).manageRoutes, true);
  assert.equal(routePolicyOf(cfg.uplinks).dryRun, false);
});

test('a copy that lost the policy throws LW_INTERNAL instead of guessing defaults (which would manage real routes)', () => {
  const cfg = parse({ uplinks: UPLINKS });
  for (const copy of [structuredClone(cfg.uplinks), [...cfg.uplinks]]) {
    assert.throws(
      () => routePolicyOf(copy),
      (e: unknown) => isLwError(e) && e.code === 'LW_INTERNAL' && /no failover policy/.test(e.message),
    );
  }
});
