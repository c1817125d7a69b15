/** Lab (root): a starved agent (SIGSTOP) never acts against the helper: past deadline + grace the helper reverts and the agent agrees; past the deadline only, the agent reverts itself. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { onJsonLines } from '../../support/json-lines.ts';
import { CONFIRM, NS, PORT, blackhole, edgeDefault, labUplinks, openLab, restore, waitFor } from '../../support/route-lab.ts';

const AGENT = new URL('../../support/route-lab-agent.ts', import.meta.url).pathname;
const CONFIRM_TIMEOUT_MS = 3_000;
const REVERT_GRACE_MS = 2_000;

function preflight(): void {
  if (process.getuid?.() !== 0) assert.fail('route lab needs root (ip netns, nft): run as root in CI');
  try {
    execFileSync('nft', ['-V'], { stdio: 'ignore' });
  } catch {
    assert.fail('route lab needs `nft`: apt-get install -y nftables');
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts the lab agent (default 5 min hold-down), waits for wan, then makes lte pass probes but fail the confirm and kills wan. */
async function switchToLteUnconfirmed(t: { after(fn: () => void): void }) {
  const { stateDir, procs } = await openLab(t);
  const config = {
    log: { level: 'info' },
    uplinks: {
      policy: {
        candidateSamples: 2,
        confirmTimeout: CONFIRM_TIMEOUT_MS,
        revertGrace: REVERT_GRACE_MS,
        minSwitchInterval: 0,
        reapplyInterval: 1000,
        maxSwitchesPerHour: 100,
        confirmTargets: [`${CONFIRM}:${PORT}`],
      },
      list: labUplinks(),
    },
  };
  const agent = spawn('ip', ['netns', 'exec', NS.edge, process.execPath, AGENT, stateDir, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] });
  procs.push(agent);
  const events: { event: string; uplink?: string }[] = [];
  const logs: Record<string, unknown>[] = [];
  onJsonLines(agent.stdout!, (r) => events.push(r as (typeof events)[number]));
  onJsonLines(agent.stderr!, (r) => logs.push(r));
  assert.ok(await waitFor(() => events.some((e) => e.event === 'active' && e.uplink === 'wan'), 20_000), 'agent started on wan');
  blackhole(NS.gw2, CONFIRM);
  blackhole(NS.gw1);
  assert.ok(await waitFor(() => /via 10\.201\.2\.1/.test(edgeDefault()), 30_000), 'switched to lte (confirm pending)');
  return { agent, events, logs };
}

test('agent starved past deadline + grace: the helper reverts, the agent agrees (helper-fired) and fails over again after a short hold, not 5 min', {
  timeout: 120_000,
}, async (t) => {
  preflight();
  const { agent, events, logs } = await switchToLteUnconfirmed(t);
  agent.kill('SIGSTOP');
  restore(NS.gw2); // the confirm target answers now, but the agent gets no CPU
  assert.ok(
    await waitFor(() => /via 10\.201\.1\.1/.test(edgeDefault()), CONFIRM_TIMEOUT_MS + REVERT_GRACE_MS + 3_000),
    'the helper reverted at deadline + grace',
  );
  await sleep(500);
  agent.kill('SIGCONT');
  assert.ok(await waitFor(() => logs.some((l) => l.msg === 'switch rolled back'), 10_000), 'the agent decided');
  const rb = logs.find((l) => l.msg === 'switch rolled back')!;
  assert.equal(rb.cause, 'helper-fired', JSON.stringify(rb));
  assert.ok(!logs.some((l) => l.msg === 'switch confirmed'), 'a confirm after the helper fired never counts');
  // wan is dead, lte healthy: the short hold for the agent's own slowness lets it fail over again.
  const rolledAt = performance.now();
  assert.ok(await waitFor(() => logs.some((l) => l.msg === 'switch confirmed') && events.at(-1)?.uplink === 'lte', 40_000), 'back on lte after the short hold');
  t.diagnostic(`failed over again ${Math.round(performance.now() - rolledAt)} ms after the rollback`);
  assert.match(edgeDefault(), /via 10\.201\.2\.1/);
});

test('agent starved past the deadline but not the grace: the agent reverts itself, the helper stays out, never confirmed', { timeout: 120_000 }, async (t) => {
  preflight();
  const { agent, logs } = await switchToLteUnconfirmed(t);
  agent.kill('SIGSTOP');
  restore(NS.gw2);
  await sleep(CONFIRM_TIMEOUT_MS + REVERT_GRACE_MS / 4);
  assert.match(edgeDefault(), /via 10\.201\.2\.1/, 'helper has not fired yet');
  agent.kill('SIGCONT');
  assert.ok(await waitFor(() => logs.some((l) => l.msg === 'switch rolled back'), 10_000), 'the agent decided');
  const rb = logs.find((l) => l.msg === 'switch rolled back')!;
  assert.notEqual(rb.cause, 'helper-fired', JSON.stringify(rb));
  t.diagnostic(`cause ${String(rb.cause)}: ${String(rb.detail)}`);
  assert.ok(await waitFor(() => /via 10\.201\.1\.1/.test(edgeDefault()), 5_000), 'reverted by the agent');
  assert.ok(!logs.slice(0, logs.indexOf(rb)).some((l) => l.msg === 'switch confirmed'), 'never confirmed after its deadline');
});
