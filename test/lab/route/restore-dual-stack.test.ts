/** Lab (root): dual-stack uplinks (static or router-advertised IPv6 defaults) switch IPv4 and IPv6 together; stop while on the backup restores the host's routes; `route cleanup` after kill -9 does too. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startBurners } from '../../support/cpu-burners.ts';
import { CLI } from '../../support/daemon.ts';
import {
  CONFIRM,
  NS,
  PORT,
  TARGET,
  TARGET6,
  blackhole,
  edgeDefault,
  edgeDefault6,
  edgeDefaults,
  forwarded,
  labUplinks,
  nsExec,
  openLab,
  restore,
  spawnLabAgent,
  waitFor,
} from '../../support/route-lab.ts';

/** Waits for a switch: generous, as with every core busy the lab prober and the confirm run late. */
const SWITCH_WAIT_MS = 30_000;
/** The agent's stop (restore, then exit) takes well under a second even on a busy node. */
const STOP_WAIT_MS = 10_000;

function needRoot(): void {
  if (process.getuid?.() !== 0) assert.fail('route lab needs root (ip netns, nft, tc): run as root in CI');
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

const policy = {
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
};

/**
 * The backup's IPv6 is broken beyond its gateway while its IPv4 works, and the confirm targets name both families:
 * IPv4 alone must not confirm the dual-stack switch, so it is rolled back (both families back on wan) and announced
 * never; once the backup's IPv6 works again, the next attempt after the hold-down confirms.
 */
for (const burn of [false, true])
  test(`dual-stack: a backup whose IPv6 is broken is not confirmed by IPv4 alone${burn ? ' (CPU burners on every core)' : ''}`, {
    timeout: 120_000,
  }, async (t) => {
    needRoot();
    const { stateDir, procs } = await openLab(t);
    const burners = burn ? startBurners() : null;
    t.after(() => burners?.stop());
    const confirmTargets = [`${CONFIRM}:${PORT}`, `[${TARGET6}]:${PORT}`];
    const { agent, logs, active, stderr } = spawnLabAgent(stateDir, {
      log: { level: 'info' },
      uplinks: { policy: { ...policy, confirmTargets }, list: labUplinks({ dualStack: true }) },
    });
    procs.push(agent);
    assert.ok(
      await waitFor(() => active() === 'wan' && /via fd00:201:1::1 dev e1/.test(edgeDefault6()), SWITCH_WAIT_MS),
      `wan active (stderr: ${stderr().slice(-800)})`,
    );

    blackhole(NS.gw2, TARGET6);
    blackhole(NS.gw1);
    // an attempt whose IPv4 part was reached (on a starved CPU an early one may run out of time before it)
    const rolledBack = () => logs.find((l) => l.msg === 'switch rolled back' && /\(IPv4\)/.test(String(l.detail)));
    assert.ok(
      await waitFor(() => rolledBack() !== undefined, SWITCH_WAIT_MS),
      `a switch to lte reached IPv4 and was rolled back (stderr: ${stderr().slice(-800)})`,
    );
    const rb = rolledBack()!;
    assert.equal(rb.cause, 'unreachable', JSON.stringify(rb));
    assert.match(String(rb.detail), new RegExp(`${esc(CONFIRM)}:${PORT} \\(IPv4\\); IPv6: `), JSON.stringify(rb));
    assert.ok(!logs.some((l) => l.msg === 'switch confirmed' && l.to === 'lte'), 'IPv4 alone never confirmed the switch to lte');
    assert.equal(active(), 'wan', 'the rollback never announced lte');
    assert.ok(
      await waitFor(() => /via fd00:201:1::1 dev e1/.test(edgeDefault6()) && /via 10\.201\.1\.1/.test(edgeDefault()), 5_000),
      'both families back on wan',
    );

    restore(NS.gw2);
    assert.ok(
      await waitFor(() => active() === 'lte', SWITCH_WAIT_MS),
      `after the hold-down, lte with working IPv6 is confirmed (stderr: ${stderr().slice(-800)})`,
    );
    const ok = logs.find((l) => l.msg === 'switch confirmed' && l.to === 'lte')!;
    assert.match(String(ok.detail), new RegExp(`\\(IPv4\\), \\[${esc(TARGET6)}\\]:${PORT} \\(IPv6\\)`), JSON.stringify(ok));
    assert.match(edgeDefault6(), /via fd00:201:2::1 dev e2/);
  });

/** One TCP connect from lwr-edge (no source address: it follows the main table, i.e. linkward's default route). */
function connectFromEdge(host: string): void {
  nsExec(
    NS.edge,
    process.execPath,
    '-e',
    `const s=require('node:net').connect({port:${PORT},host:'${host}',timeout:3000},()=>s.end());s.on('error',()=>process.exit(1));s.on('timeout',()=>process.exit(2))`,
  );
}

/** Packets each gateway forwarded during `fn`. */
function crossed(fn: () => void): { gw1: number; gw2: number } {
  const [a, b] = [forwarded(NS.gw1), forwarded(NS.gw2)];
  fn();
  return { gw1: forwarded(NS.gw1) - a, gw2: forwarded(NS.gw2) - b };
}

/** Routes as `ip route` prints them, without the seconds an RA route has left (they count down between reads). */
const steady = (routes: string): string => routes.replace(/ expires \d+sec/g, '');
const esc = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** The gateway's link-local address on its lab link, once DAD has finished (a router announces this one in its RAs). */
async function linkLocal(ns: string, dev: string): Promise<string> {
  let addr = '';
  await waitFor(() => {
    const out = nsExec(ns, 'ip', '-6', '-o', 'addr', 'show', 'dev', dev, 'scope', 'link');
    addr = out.includes('tentative') ? '' : (/inet6 (fe80::[0-9a-f:]+)\//.exec(out)?.[1] ?? '');
    return addr !== '';
  }, 10_000);
  assert.ok(addr, `no link-local address on ${ns} ${dev}`);
  return addr;
}

/**
 * Replaces the static IPv6 default with what router advertisements leave on a host with two uplinks: a default via
 * each router's link-local address, proto ra, with a lifetime (metrics apart, as NetworkManager gives each device).
 */
async function routerAdvertised(): Promise<{ gw1: string; gw2: string }> {
  const gw1 = await linkLocal(NS.gw1, 'g1a');
  const gw2 = await linkLocal(NS.gw2, 'g2a');
  nsExec(NS.edge, 'ip', '-6', 'route', 'del', 'default', 'via', 'fd00:201:1::1', 'dev', 'e1');
  nsExec(NS.edge, 'ip', '-6', 'route', 'add', 'default', 'via', gw1, 'dev', 'e1', 'proto', 'ra', 'metric', '1024', 'expires', '1800');
  nsExec(NS.edge, 'ip', '-6', 'route', 'add', 'default', 'via', gw2, 'dev', 'e2', 'proto', 'ra', 'metric', '1100', 'expires', '1800');
  return { gw1, gw2 };
}

for (const ra of [false, true])
  for (const burn of [false, true]) {
    const how = ra ? 'router-advertised IPv6 defaults, gateway6 auto' : 'static IPv6 gateways';
    test(`dual-stack (${how}): both families switch to the backup; stop while on it restores the host routes${burn ? ' (CPU burners on every core)' : ''}`, {
      timeout: 120_000,
    }, async (t) => {
      needRoot();
      const { stateDir, procs } = await openLab(t);
      const gw6 = ra ? await routerAdvertised() : { gw1: 'fd00:201:1::1', gw2: 'fd00:201:2::1' };
      const before4 = edgeDefaults(4);
      const before6 = steady(edgeDefaults(6));
      assert.match(
        before6,
        ra ? new RegExp(`default via ${esc(gw6.gw1)} dev e1 proto ra metric 1024`) : /default via fd00:201:1::1 dev e1 proto static metric 100/,
      );
      const burners = burn ? startBurners() : null;
      t.after(() => burners?.stop());
      const list = labUplinks({ dualStack: true }).map((u) => (ra ? { ...u, gateway6: 'auto' } : u));
      const { agent, events, active, stderr } = spawnLabAgent(stateDir, { log: { level: 'info' }, uplinks: { policy, list } });
      procs.push(agent);
      const via1 = new RegExp(`via ${esc(gw6.gw1)} dev e1`);
      const via2 = new RegExp(`via ${esc(gw6.gw2)} dev e2`);

      assert.ok(
        await waitFor(() => active() === 'wan' && via1.test(edgeDefault6()), SWITCH_WAIT_MS),
        `wan active in both families (stderr: ${stderr().slice(-800)})`,
      );
      assert.match(edgeDefault6(), new RegExp(`^default via ${esc(gw6.gw1)} dev e1 metric 1 `));
      assert.match(nsExec(NS.edge, 'ip', '-6', 'rule', 'show'), /7101:\s+from fd00:201:2::2 lookup 7101/);
      assert.match(nsExec(NS.edge, 'ip', '-6', 'route', 'show', 'table', '7101'), new RegExp(`default ${via2.source}`));

      blackhole(NS.gw1);
      assert.ok(await waitFor(() => active() === 'lte', SWITCH_WAIT_MS), `switched to lte (stderr: ${stderr().slice(-800)})`);
      assert.ok(await waitFor(() => via2.test(edgeDefault6()), 5_000), edgeDefault6());
      assert.match(edgeDefault(), /^default via 10\.201\.2\.1 dev e2\b/);
      const onBackup = crossed(() => {
        connectFromEdge(TARGET);
        connectFromEdge(TARGET6);
      });
      assert.ok(onBackup.gw2 >= 2, `IPv4 and IPv6 traffic crosses gw2 (${JSON.stringify(onBackup)})`);

      // Stop while on the backup (gw1 still dead, so nothing moves the route back first).
      const stopAt = Date.now();
      agent.kill('SIGTERM');
      assert.ok(await waitFor(() => events.some((e) => e.event === 'stopped'), STOP_WAIT_MS), `agent stopped (stderr: ${stderr().slice(-800)})`);
      t.diagnostic(
        `${how}: SIGTERM → routes restored and agent stopped: ${events.find((e) => e.event === 'stopped')!.atMs - stopAt} ms${burn ? ' (burners)' : ''}`,
      );
      assert.equal(edgeDefaults(4), before4, 'IPv4 main defaults as before linkward');
      assert.equal(steady(edgeDefaults(6)), before6, 'IPv6 main defaults as before linkward');
      restore(NS.gw1);
      const after = crossed(() => {
        connectFromEdge(TARGET);
        connectFromEdge(TARGET6);
      });
      assert.ok(after.gw1 >= 2 && after.gw2 === 0, `after stop, IPv4 and IPv6 traffic crosses gw1 only (${JSON.stringify(after)})`);
    });
  }

test('kill -9 while on the backup, then `linkward route cleanup`: the host routes come back, nothing of linkward stays', { timeout: 120_000 }, async (t) => {
  needRoot();
  const { stateDir, procs } = await openLab(t);
  const before4 = edgeDefaults(4);
  const before6 = edgeDefaults(6);
  const burners = startBurners();
  t.after(() => burners.stop());
  const list = labUplinks({ dualStack: true });
  const { agent, active, stderr } = spawnLabAgent(stateDir, { log: { level: 'info' }, uplinks: { policy, list } });
  procs.push(agent);
  assert.ok(await waitFor(() => active() === 'wan', SWITCH_WAIT_MS), `wan active (stderr: ${stderr().slice(-800)})`);
  blackhole(NS.gw1);
  assert.ok(await waitFor(() => active() === 'lte', SWITCH_WAIT_MS), 'switched to lte');
  assert.ok(await waitFor(() => /via fd00:201:2::1/.test(edgeDefault6()), 5_000), 'IPv6 on lte');
  agent.kill('SIGKILL');
  await new Promise((r) => agent.once('exit', r));
  assert.match(edgeDefault(), /via 10\.201\.2\.1 dev e2/, 'a confirmed switch is not reverted by the helper: the host is pinned to the backup');
  burners.stop();

  const cfg = join(stateDir, 'config.json');
  writeFileSync(cfg, JSON.stringify({ state: { dir: stateDir }, uplinks: { policy, list } }));
  const dry = nsExec(NS.edge, process.execPath, CLI, '--config', cfg, 'route', 'cleanup', '--dry-run');
  assert.match(dry, /^ip route del default via 10\.201\.2\.1 dev e2 metric 0 proto 77$/m);
  assert.match(dry, /^ip -6 route del default via fd00:201:2::1 dev e2 metric 1 proto 77$/m);
  nsExec(NS.edge, process.execPath, CLI, '--config', cfg, 'route', 'cleanup');
  assert.equal(edgeDefaults(4), before4);
  assert.equal(edgeDefaults(6), before6);
  for (const f of ['-4', '-6']) {
    assert.doesNotMatch(nsExec(NS.edge, 'ip', f, 'rule', 'show'), /lookup 710\d/, `no linkward rules (${f})`);
    assert.equal(nsExec(NS.edge, 'ip', f, 'route', 'show', 'proto', '77', 'table', 'all').trim(), '', `no linkward routes (${f})`);
  }
  assert.equal(nsExec(NS.edge, process.execPath, CLI, '--config', cfg, 'route', 'cleanup'), 'nothing to clean up\n');
});
