/** Lab (root): kill -9 of the agent (and of its whole process group) mid-confirm → the pre-started helper reverts at once; quiet and with every core busy. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { startBurners } from '../../support/cpu-burners.ts';
import { onJsonLines } from '../../support/json-lines.ts';
import { CONFIRM, NS, PORT, blackhole, edgeDefault, ip, labUplinks, openLab, waitFor } from '../../support/route-lab.ts';

const AGENT = new URL('../../support/route-lab-agent.ts', import.meta.url).pathname;
/** Long enough that a revert seen within REVERT_BOUND_MS can only be the helper reacting to the kill, not the deadline. */
const CONFIRM_TIMEOUT_MS = 30_000;
/** The helper reverts when its agent's socket closes; allow for a loaded machine. */
const REVERT_BOUND_MS = 8_000;

function preflight(): void {
  if (process.getuid?.() !== 0) assert.fail('route lab needs root (ip netns, nft): run as root in CI');
  for (const [tool, pkg] of [
    ['ip', 'iproute2'],
    ['nft', 'nftables'],
  ] as const) {
    try {
      execFileSync(tool, ['-V'], { stdio: 'ignore' });
    } catch {
      assert.fail(`route lab needs \`${tool}\`: apt-get install -y ${pkg}`);
    }
  }
}

/** Processes still running in the edge namespace (the agent's helper lives there too). */
const edgePids = (): number[] =>
  ip('netns', 'pids', NS.edge)
    .split('\n')
    .map(Number)
    .filter((n) => n > 1);

for (const [mode, group] of [
  ['quiet', false],
  ['loaded', false],
  ['loaded', true],
] as const) {
  test(`kill -9 ${group ? "of the agent's process group" : 'of the agent'} mid-confirm (${mode}): the route is reverted long before the deadline`, {
    timeout: 120_000,
  }, async (t) => {
    preflight();
    const { stateDir, procs } = await openLab(t);
    const config = {
      log: { level: 'info' },
      uplinks: {
        policy: {
          candidateSamples: 2,
          confirmTimeout: CONFIRM_TIMEOUT_MS,
          revertGrace: 5_000,
          minSwitchInterval: 0,
          reapplyInterval: 1000,
          maxSwitchesPerHour: 100,
          confirmTargets: [`${CONFIRM}:${PORT}`],
        },
        list: labUplinks(),
      },
    };
    // Own process group (detached), so "the group" holds the agent and whatever it spawned without setsid.
    const agent = spawn('ip', ['netns', 'exec', NS.edge, process.execPath, AGENT, stateDir, JSON.stringify(config)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    });
    procs.push(agent);
    const events: { event: string; uplink?: string; active?: string }[] = [];
    const logs: Record<string, unknown>[] = [];
    onJsonLines(agent.stdout!, (r) => events.push(r as (typeof events)[number]));
    onJsonLines(agent.stderr!, (r) => logs.push(r));
    const burners = mode === 'loaded' ? startBurners() : null;
    t.after(() => burners?.stop());
    assert.ok(await waitFor(() => events.some((e) => e.event === 'active' && e.uplink === 'wan'), 20_000), 'agent started on wan');
    assert.ok(await waitFor(() => /via 10\.201\.1\.1/.test(edgeDefault()), 10_000), edgeDefault());
    // lte passes its probes but cannot reach the confirm target: the confirm would run its full 30 s.
    blackhole(NS.gw2, CONFIRM);
    blackhole(NS.gw1);
    assert.ok(await waitFor(() => /via 10\.201\.2\.1/.test(edgeDefault()), 30_000), 'switched to lte (confirm pending)');
    const armed = logs.find((l) => l.msg === 'switching default route (revert armed)');
    t.diagnostic(`armed in ${String(armed?.armMs)} ms (${mode})`);
    const killedAt = performance.now();
    if (group) process.kill(-agent.pid!, 'SIGKILL');
    else agent.kill('SIGKILL');
    assert.ok(await waitFor(() => /via 10\.201\.1\.1/.test(edgeDefault()), REVERT_BOUND_MS), `route reverted after kill -9 (now: ${edgeDefault()})`);
    const ms = Math.round(performance.now() - killedAt);
    t.diagnostic(`reverted ${ms} ms after kill -9 (${mode}${group ? ', process group' : ''}); deadline was ${CONFIRM_TIMEOUT_MS} ms`);
    assert.ok(ms < CONFIRM_TIMEOUT_MS, 'the helper did not wait for the deadline');
    // The orphaned helper exits once it has reverted: nothing is left in the namespace.
    assert.ok(await waitFor(() => edgePids().length === 0, 5_000), `left running in ${NS.edge}: ${edgePids().join(', ')}`);
    assert.ok(!logs.some((l) => l.msg === 'switch confirmed'), 'the agent never confirmed');
  });
}
