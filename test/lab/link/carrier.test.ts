/** Lab (root): real probes + link state in namespace lwl-*-a over a veth to lwl-*-b; carrier loss and blackhole → `linkward check` exit codes, quiet and with CPU burners. */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { run } from '../../../agent/base/exec.ts';
import { Exit } from '../../../agent/cli/exit-codes.ts';
import { cpuVariants, startBurners } from '../../support/cpu-burners.ts';

const AGENT = fileURLToPath(new URL('../../support/link-lab-agent.ts', import.meta.url));
const ECHO = fileURLToPath(new URL('../../support/link-lab-echo.ts', import.meta.url));
const CLI = fileURLToPath(new URL('../../../agent/main.ts', import.meta.url));
const TAG = String(process.pid % 100_000);
const NS_A = `lwl-${TAG}-a`;
const NS_B = `lwl-${TAG}-b`;
const IP_A = '10.79.0.1';
const IP_B = '10.79.0.2';
const ECHO_PORT = 9799;
/** Bound for every wait in this file; the expected times are 1–4 s (probes every 0.5 s, dwell 1 s / 2 s). */
const WAIT_LIMIT_MS = 30_000;

const children: ChildProcess[] = [];
let skipReason: string | null = null;
let address = '';
let cfgPath = '';

async function ns(name: string, cmd: string, args: string[]): Promise<string> {
  return (await run('ip', ['netns', 'exec', name, cmd, ...args], { timeoutMs: 20_000 })).stdout;
}

function spawnIn(name: string, args: string[]): ChildProcess {
  const c = spawn('ip', ['netns', 'exec', name, process.execPath, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(c);
  return c;
}

function firstLine(c: ChildProcess, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no ${pattern} within ${WAIT_LIMIT_MS} ms: ${buf}`)), WAIT_LIMIT_MS);
    const on = (d: Buffer): void => {
      buf += d.toString();
      const m = pattern.exec(buf);
      if (m) {
        clearTimeout(timer);
        resolve(m);
      }
    };
    c.stdout?.on('data', on);
    c.stderr?.on('data', on);
    c.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited ${code}: ${buf}`));
    });
  });
}

/** Grace for helpers to clean up their temp state on SIGTERM before they are killed. */
const STOP_GRACE_MS = 3_000;

async function destroy(): Promise<void> {
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((res) => {
          if (c.exitCode !== null || c.signalCode !== null) return res();
          const timer = setTimeout(() => {
            c.kill('SIGKILL');
            res();
          }, STOP_GRACE_MS);
          c.once('exit', () => {
            clearTimeout(timer);
            res();
          });
          c.kill('SIGTERM');
        }),
    ),
  );
  for (const n of [NS_A, NS_B]) await run('ip', ['netns', 'del', n], { timeoutMs: 10_000 }).catch(() => undefined);
}

before(async () => {
  if (process.getuid?.() !== 0) skipReason = 'lab tests need root (network namespaces)';
  else {
    try {
      await run('ip', ['-V'], { timeoutMs: 5_000 });
      await run('nft', ['--version'], { timeoutMs: 5_000 });
    } catch {
      skipReason = 'ip or nft missing: apt-get install -y iproute2 nftables';
    }
  }
  if (skipReason && process.env.CI) assert.fail(`link lab cannot run in CI: ${skipReason}`);
  if (skipReason) return;
  try {
    await run('ip', ['netns', 'add', NS_A], { timeoutMs: 10_000 });
    await run('ip', ['netns', 'add', NS_B], { timeoutMs: 10_000 });
    await run('ip', ['link', 'add', `lwla${TAG}`, 'netns', NS_A, 'type', 'veth', 'peer', 'name', `lwlb${TAG}`, 'netns', NS_B], { timeoutMs: 10_000 });
    await ns(NS_A, 'ip', ['link', 'set', `lwla${TAG}`, 'name', 'wan0']);
    await ns(NS_B, 'ip', ['link', 'set', `lwlb${TAG}`, 'name', 'srv0']);
    await ns(NS_A, 'ip', ['addr', 'add', `${IP_A}/24`, 'dev', 'wan0']);
    await ns(NS_B, 'ip', ['addr', 'add', `${IP_B}/24`, 'dev', 'srv0']);
    for (const [n, dev] of [
      [NS_A, 'wan0'],
      [NS_B, 'srv0'],
    ] as const) {
      await ns(n, 'ip', ['link', 'set', dev, 'up']);
      await ns(n, 'ip', ['link', 'set', 'lo', 'up']);
    }
    await ns(NS_B, 'nft', ['add table inet lwl; add chain inet lwl in { type filter hook input priority 0; policy accept; }']);
    await firstLine(spawnIn(NS_B, [ECHO, IP_B, String(ECHO_PORT)]), /echo ready/);
    const agent = spawnIn(NS_A, [AGENT, 'wan0', `udp://${IP_B}:${ECHO_PORT}`, '1', '2']);
    address = (await firstLine(agent, /listening (\S+)/))[1] ?? '';
    cfgPath = fileURLToPath(new URL('../../support/link-lab-empty.yaml', import.meta.url));
  } catch (e) {
    await destroy();
    throw e;
  }
});
after(destroy);

async function check(): Promise<{ code: number; stdout: string }> {
  try {
    const r = await run('ip', ['netns', 'exec', NS_A, process.execPath, CLI, '--config', cfgPath, 'check', '--address', address], {
      timeoutMs: 20_000,
      okCodes: [0, 1, 2, 3],
    });
    return { code: r.code, stdout: r.stdout };
  } catch (e) {
    return { code: -1, stdout: String(e) };
  }
}

/** Polls `linkward check` (bounded by WAIT_LIMIT_MS) until it exits with `code` (and prints `pattern`); returns the elapsed ms and output. */
async function until(code: number, pattern?: RegExp): Promise<{ ms: number; stdout: string }> {
  const t0 = Date.now();
  let last = { code: -1, stdout: '' };
  while (Date.now() - t0 < WAIT_LIMIT_MS) {
    last = await check();
    if (last.code === code && (!pattern || pattern.test(last.stdout))) return { ms: Date.now() - t0, stdout: last.stdout };
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.fail(`check never exited ${code}${pattern ? ` printing ${pattern}` : ''} within ${WAIT_LIMIT_MS} ms; last ${last.code}: ${last.stdout}`);
}

for (const busy of cpuVariants())
  test(`carrier loss on the uplink interface → down (carrier=lost), and back; blackhole → down (no quorum), and back${busy ? ' (CPU burners on every core at the agent priority)' : ''}`, async (t) => {
    if (skipReason) return t.skip(skipReason);
    await until(Exit.OK);
    // Busy: the running agent (and every `linkward check`) now competes with a busy loop per core.
    const burners = busy ? startBurners() : null;
    t.after(() => burners?.stop());
    await ns(NS_B, 'ip', ['link', 'set', 'srv0', 'down']);
    // The probe round fails at once (no quorum); the carrier flag follows with the next passive read.
    const lost = await until(Exit.DOWN, /carrier=lost/);
    await ns(NS_B, 'ip', ['link', 'set', 'srv0', 'up']);
    const back = await until(Exit.OK);
    await ns(NS_B, 'nft', ['add rule inet lwl in udp dport 9799 drop']);
    // (The probes re-read the carrier every 30 s, so a "carrier=lost" from the cached fact may still accompany this.)
    const hole = await until(Exit.DOWN, /unreachable=0\/1 targets<quorum/);
    await ns(NS_B, 'nft', ['flush chain inet lwl in']);
    const healed = await until(Exit.OK);
    t.diagnostic(
      `${busy ? `${burners!.count} burners: ` : ''}carrier lost → down ${lost.ms} ms, back ${back.ms} ms; blackhole → down ${hole.ms} ms, back ${healed.ms} ms (probes 0.5 s, dwell 1 s/2 s)`,
    );
  });
