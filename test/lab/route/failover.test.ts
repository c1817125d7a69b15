/** Lab (root): real namespaces, real `ip`, real revert helper. Hard loss → switch to gw2 with traffic through gw2; failback; rollback; kill -9 rollback. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CONFIRM,
  NS,
  PORT,
  TARGET,
  blackhole,
  edgeDefault,
  forwarded,
  labUplinks,
  nsExec,
  openLab,
  restore,
  spawnLabAgent,
  throttle,
  waitFor,
} from '../../support/route-lab.ts';

test('route failover lab', { timeout: 120_000 }, async (t) => {
  if (process.getuid?.() !== 0) assert.fail('route lab needs root (ip netns, nft, tc): run as root in CI');
  for (const [tool, pkg] of [
    ['ip', 'iproute2'],
    ['nft', 'nftables'],
    ['tc', 'iproute2'],
  ] as const) {
    try {
      execFileSync(tool, ['-V'], { stdio: 'ignore' });
    } catch {
      assert.fail(`route lab needs \`${tool}\`: apt-get install -y ${pkg}`);
    }
  }
  const { stateDir, procs } = await openLab(t);
  const config = {
    log: { level: 'info' },
    uplinks: {
      policy: {
        candidateSamples: 2,
        confirmTimeout: 1500,
        revertGrace: 1000,
        failbackHold: 2000,
        degradedSwitchAfter: 1000,
        minSwitchInterval: 0,
        reapplyInterval: 1000,
        holdDown: 1500,
        maxSwitchesPerHour: 100,
        confirmTargets: [`${CONFIRM}:${PORT}`],
      },
      list: labUplinks(),
    },
  };
  const { agent, active, stderr } = spawnLabAgent(stateDir, config);
  procs.push(agent);

  assert.ok(await waitFor(() => active() === 'wan', 10_000), `agent announced wan (stderr: ${stderr().slice(-500)})`);
  assert.ok(await waitFor(() => /^default via 10\.201\.1\.1 dev e1\b/.test(edgeDefault()), 5000), edgeDefault());
  assert.match(nsExec(NS.edge, 'ip', 'rule', 'show'), /from 10\.201\.2\.2 lookup 7101/);
  // Drift: someone deletes lte's rule and table route; the periodic re-apply puts them back.
  nsExec(NS.edge, 'ip', 'rule', 'del', 'priority', '7101');
  nsExec(NS.edge, 'ip', 'route', 'flush', 'table', '7101');
  assert.ok(
    await waitFor(
      () =>
        /from 10\.201\.2\.2 lookup 7101/.test(nsExec(NS.edge, 'ip', 'rule', 'show')) &&
        /default via 10\.201\.2\.1/.test(nsExec(NS.edge, 'ip', 'route', 'show', 'table', '7101')),
      5000,
    ),
    'drift repaired',
  );

  // Hard loss on gw1 → switch to lte, confirmed through gw2; new flows really cross gw2.
  blackhole(NS.gw1);
  assert.ok(await waitFor(() => active() === 'lte', 15_000), 'switched to lte');
  assert.match(edgeDefault(), /^default via 10\.201\.2\.1 dev e2\b/);
  const before = forwarded(NS.gw2);
  nsExec(NS.edge, process.execPath, '-e', `const s=require('node:net').connect(${PORT},'${TARGET}',()=>s.end());s.on('error',()=>process.exit(1))`);
  assert.ok(forwarded(NS.gw2) > before, 'edge → inet traffic flows through gw2');

  // Restore gw1 → failback after the 2 s hold.
  restore(NS.gw1);
  assert.ok(await waitFor(() => active() === 'wan', 20_000), 'failed back to wan');
  assert.match(edgeDefault(), /^default via 10\.201\.1\.1 dev e1\b/);

  // Throttle gw1 below the degraded threshold (tbf 1 Mbit/s < 5) → switch; unthrottle → failback.
  throttle(NS.gw1);
  assert.ok(await waitFor(() => active() === 'lte', 20_000), 'switched to lte on throttling');
  assert.match(edgeDefault(), /^default via 10\.201\.2\.1 dev e2\b/);
  restore(NS.gw1);
  assert.ok(await waitFor(() => active() === 'wan', 20_000), 'failed back to wan after throttling');

  // gw2 breaks beyond its gateway (drops the confirm target) and gw1 dies: the switch is rolled back by the agent.
  blackhole(NS.gw2, CONFIRM);
  blackhole(NS.gw1);
  let sawLte = false;
  assert.ok(
    await waitFor(() => {
      const d = edgeDefault();
      if (/via 10\.201\.2\.1/.test(d)) sawLte = true;
      return sawLte && /via 10\.201\.1\.1/.test(d);
    }, 20_000),
    'switched to gw2 and rolled back to gw1',
  );
  assert.equal(active(), 'wan', 'rollback never announced lte');

  // Again, but kill -9 the agent right after the switch: the external helper reverts.
  assert.ok(await waitFor(() => /via 10\.201\.2\.1/.test(edgeDefault()), 20_000), 'next attempt after hold-down switched to gw2');
  agent.kill('SIGKILL');
  const killedAt = Date.now();
  assert.ok(await waitFor(() => /via 10\.201\.1\.1/.test(edgeDefault()), 8_000), 'route reverted by the helper after the agent died');
  t.diagnostic(`helper reverted ${Date.now() - killedAt} ms after kill -9`);
});

test('route failover lab with the probes package and the link-state machine', { timeout: 90_000 }, async (t) => {
  if (process.getuid?.() !== 0) assert.fail('route lab needs root (ip netns, nft, tc): run as root in CI');
  const { stateDir, procs } = await openLab(t);
  const config = {
    log: { level: 'warn' },
    probes: {
      targets: [`${TARGET}:${PORT}`],
      intervalMs: 500,
      maxIntervalMs: 500,
      timeoutMs: 300,
      windowPackets: 4,
      throughput: { enabled: false },
      health: { dwell: { enterS: 1, exitS: 2 }, damping: { enabled: false } },
    },
    uplinks: {
      policy: { candidateSamples: 2, confirmTimeout: 1500, failbackHold: 2000, minSwitchInterval: 0 },
      list: labUplinks().map((u) => ({ ...u, targets: undefined })),
    },
  };
  const { agent, events, active, stderr } = spawnLabAgent(stateDir, config, { LWR_PROBES: 'real' });
  procs.push(agent);
  assert.ok(
    await waitFor(() => active() === 'wan' && events.some((e) => e.event === 'health' && e.uplink === 'lte'), 15_000),
    `started on wan with both uplinks measured (stderr: ${stderr().slice(-500)})`,
  );
  blackhole(NS.gw1);
  assert.ok(await waitFor(() => active() === 'lte', 15_000), `switched to lte (stderr: ${stderr().slice(-500)})`);
  assert.match(edgeDefault(), /^default via 10\.201\.2\.1 dev e2\b/);
  // Probes bound to wan's address still leave through gw1 (per-uplink table), so wan's recovery is seen while lte carries traffic.
  restore(NS.gw1);
  assert.ok(await waitFor(() => active() === 'wan', 30_000), 'failed back to wan');
  assert.match(edgeDefault(), /^default via 10\.201\.1\.1 dev e1\b/);
});

test('an empty `ip -json addr` read deletes nothing: per-uplink rules and tables stay, drift repair resumes after', { timeout: 90_000 }, async (t) => {
  if (process.getuid?.() !== 0) assert.fail('route lab needs root (ip netns, nft, tc): run as root in CI');
  const { stateDir, procs } = await openLab(t);
  const flag = join(stateDir, 'flaky');
  const config = {
    log: { level: 'info' },
    uplinks: {
      policy: {
        candidateSamples: 2,
        confirmTimeout: 1500,
        failbackHold: 2000,
        minSwitchInterval: 0,
        reapplyInterval: 500,
        confirmTargets: [`${CONFIRM}:${PORT}`],
      },
      list: labUplinks(),
    },
  };
  const { agent, logs, active, stderr } = spawnLabAgent(stateDir, config, {
    LWR_IP: new URL('../../support/route-lab-flaky-ip.mjs', import.meta.url).pathname,
    LWR_FLAKY_FLAG: flag,
  });
  procs.push(agent);
  const rules = (): string => nsExec(NS.edge, 'ip', 'rule', 'show');
  const tables = (): string => nsExec(NS.edge, 'ip', 'route', 'show', 'table', 'all', 'proto', '77');
  const intact = (): boolean =>
    /from 10\.201\.1\.2 lookup 7100/.test(rules()) &&
    /from 10\.201\.2\.2 lookup 7101/.test(rules()) &&
    /table 7100/.test(tables()) &&
    /table 7101/.test(tables());
  assert.ok(await waitFor(() => active() === 'wan' && intact(), 10_000), `started on wan with both tables (stderr: ${stderr().slice(-500)})`);

  writeFileSync(flag, '');
  // Several reapply ticks (500 ms) of empty reads: every poll still sees both rules and both tables.
  for (let i = 0; i < 40; i++) {
    assert.ok(intact(), `rules and tables intact during empty reads (poll ${i}): ${rules()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.ok(
    logs.some((l) => /kernel routing state unknown/.test(String(l.msg))),
    'the unknown read was logged',
  );
  assert.match(edgeDefault(), /^default via 10\.201\.1\.1 dev e1\b/);

  rmSync(flag);
  nsExec(NS.edge, 'ip', 'rule', 'del', 'priority', '7101');
  assert.ok(await waitFor(intact, 5_000), 'drift repaired once reads are whole again');
});
