/** Lab with a long round trip (no netem on this kernel): client a ↔ router m ↔ server b, m delays every packet in user space. */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { run } from '../../agent/base/exec.ts';
import { type Lab, tbfArgs, waitForOutput } from './probes-lab.ts';

/** Client 10.91.0.1 (interface lwp0, as in the probes lab), router .254 on both subnets, server 10.92.0.2. */
export const DELAY_LAB = { clientIp: '10.91.0.1', serverIp: '10.92.0.2', routerA: '10.91.0.254', routerB: '10.92.0.254' } as const;

const DELAY_LINE = fileURLToPath(new URL('./delay-line.py', import.meta.url));
/** Policy-routing table in m that sends everything arriving from a or b into the delay line. */
const DELAY_TABLE = '200';
/** How long the delay line may take to attach to its device. */
const READY_TIMEOUT_MS = 10_000;

export interface DelayLab extends Lab {
  /** The router namespace. */
  m: string;
  /** Sets the round trip the delay line adds (half each way); restarts it, so packets in flight are dropped. */
  setRtt(rttMs: number): Promise<void>;
}

/**
 * Creates `<prefix>a`, `<prefix>m`, `<prefix>b` (prefix must start with lwp-). Rate and loss act in m (tbf on its two
 * egress interfaces, nft in its forward path), after the delay line, whose process runs at nice -10 so CPU burners
 * aimed at the agent do not also slow the emulated network. Always call destroy().
 */
export async function createDelayLab(prefix: string, rttMs: number): Promise<DelayLab> {
  if (!prefix.startsWith('lwp-')) throw new Error('delay lab namespaces must start with lwp-');
  const [a, m, b] = [`${prefix}a`, `${prefix}m`, `${prefix}b`];
  const children = new Set<ChildProcess>();
  let line: ChildProcess | undefined;
  const exec = async (ns: string, cmd: string, args: readonly string[], timeoutMs = 30_000, okCodes = [0]): Promise<string> =>
    (await run('ip', ['netns', 'exec', ns, cmd, ...args], { timeoutMs, okCodes })).stdout;
  const spawnIn = (ns: string, cmd: string, args: readonly string[]): ChildProcess => {
    const c = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(c);
    c.on('exit', () => children.delete(c));
    return c;
  };
  const destroy = async (): Promise<void> => {
    for (const c of children) c.kill('SIGKILL');
    for (const ns of [a, m, b]) await run('ip', ['netns', 'del', ns], { timeoutMs: 10_000 }).catch(() => undefined);
  };
  const setRtt = async (ms: number): Promise<void> => {
    line?.kill('SIGKILL');
    line = spawnIn(m, 'nice', ['-n', '-10', 'python3', DELAY_LINE, 'lwdl0', String(ms / 2)]);
    await waitForOutput(line, /delay-line ready/, READY_TIMEOUT_MS);
  };
  try {
    for (const ns of [a, m, b]) await run('ip', ['netns', 'del', ns], { timeoutMs: 10_000 }).catch(() => undefined);
    for (const ns of [a, m, b]) await run('ip', ['netns', 'add', ns], { timeoutMs: 10_000 });
    const sfx = prefix.slice(4, 8);
    await run('ip', ['link', 'add', `lwda${sfx}`, 'netns', a, 'type', 'veth', 'peer', 'name', `lwma${sfx}`, 'netns', m], { timeoutMs: 10_000 });
    await run('ip', ['link', 'add', `lwdb${sfx}`, 'netns', b, 'type', 'veth', 'peer', 'name', `lwmb${sfx}`, 'netns', m], { timeoutMs: 10_000 });
    await exec(a, 'ip', ['link', 'set', `lwda${sfx}`, 'name', 'lwp0']);
    await exec(b, 'ip', ['link', 'set', `lwdb${sfx}`, 'name', 'lwp0']);
    await exec(m, 'ip', ['link', 'set', `lwma${sfx}`, 'name', 'lwma']);
    await exec(m, 'ip', ['link', 'set', `lwmb${sfx}`, 'name', 'lwmb']);
    await exec(a, 'ip', ['addr', 'add', `${DELAY_LAB.clientIp}/24`, 'dev', 'lwp0']);
    await exec(b, 'ip', ['addr', 'add', `${DELAY_LAB.serverIp}/24`, 'dev', 'lwp0']);
    await exec(m, 'ip', ['addr', 'add', `${DELAY_LAB.routerA}/24`, 'dev', 'lwma']);
    await exec(m, 'ip', ['addr', 'add', `${DELAY_LAB.routerB}/24`, 'dev', 'lwmb']);
    for (const [ns, ifs] of [
      [a, ['lo', 'lwp0']],
      [b, ['lo', 'lwp0']],
      [m, ['lo', 'lwma', 'lwmb']],
    ] as const)
      for (const i of ifs) await exec(ns, 'ip', ['link', 'set', i, 'up']);
    await exec(a, 'ip', ['route', 'add', 'default', 'via', DELAY_LAB.routerA]);
    await exec(b, 'ip', ['route', 'add', 'default', 'via', DELAY_LAB.routerB]);
    // m: forward, and route whatever arrives from a or b into the delay line; what comes out of it takes the main table
    await exec(m, 'ip', ['tuntap', 'add', 'dev', 'lwdl0', 'mode', 'tun']);
    await exec(m, 'ip', ['link', 'set', 'lwdl0', 'up']);
    for (const k of ['net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0', 'net.ipv4.conf.lwdl0.rp_filter=0'])
      await exec(m, 'sysctl', ['-q', '-w', k]);
    for (const i of ['lwma', 'lwmb']) await exec(m, 'ip', ['rule', 'add', 'iif', i, 'lookup', DELAY_TABLE]);
    await exec(m, 'ip', ['route', 'add', 'default', 'dev', 'lwdl0', 'table', DELAY_TABLE]);
    await exec(m, 'nft', ['add table inet lwp; add chain inet lwp relay { type filter hook forward priority 0; policy accept; }']);
    await setRtt(rttMs);
  } catch (e) {
    await destroy();
    throw e;
  }
  return {
    a,
    b,
    m,
    exec,
    setRtt,
    async shape(mbit, lossPercent, opts = {}) {
      for (const i of ['lwma', 'lwmb']) {
        await exec(m, 'tc', ['qdisc', 'del', 'dev', i, 'root']).catch(() => undefined);
        if (mbit !== null) await exec(m, 'tc', tbfArgs(i, mbit, opts.queueMs ?? 50));
      }
      await exec(m, 'nft', ['flush chain inet lwp relay']);
      const per10k = Math.round(lossPercent * 100);
      // packets leaving the delay line toward a or b: each direction loses its share once
      if (per10k > 0) await exec(m, 'nft', [`add rule inet lwp relay iifname "lwdl0" numgen random mod 10000 < ${per10k} drop`]);
    },
    async counters(iface) {
      const read = async (k: string): Promise<number> => Number((await exec(a, 'cat', [`/sys/class/net/${iface}/statistics/${k}`])).trim());
      return { rx: await read('rx_bytes'), tx: await read('tx_bytes') };
    },
    spawnIn,
    destroy,
  };
}
