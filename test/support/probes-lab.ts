/** Network lab for probe tests and benchmarks: two namespaces (lwp-*) joined by two veth pairs, tbf rate shaping, nft random loss. */
import { spawn, type ChildProcess } from 'node:child_process';
import { run } from '../../agent/base/exec.ts';

/** Addresses: primary link 10.77.0.0/24, second link 10.78.0.0/24 (client side .1, server side .2). */
export const LAB = {
  clientIp: '10.77.0.1',
  serverIp: '10.77.0.2',
  client2Ip: '10.78.0.1',
  server2Ip: '10.78.0.2',
  /** An address on the primary subnet nobody answers (dead target). */
  deadIp: '10.77.0.3',
} as const;

export interface Lab {
  a: string;
  b: string;
  /** Runs a command inside a namespace; its stdout (also for the exit codes in `okCodes`, default [0]). */
  exec(ns: string, cmd: string, args: readonly string[], timeoutMs?: number, okCodes?: number[]): Promise<string>;
  /**
   * Shapes both directions of the primary link to `mbit` (tbf, queue `queueMs` at the rate, default 50 ms) and sets
   * random loss in percent, to 0.01 % (nft, both directions).
   */
  shape(mbit: number | null, lossPercent: number, opts?: { queueMs?: number }): Promise<void>;
  /** rx/tx byte counters of an interface inside namespace a. */
  counters(iface: string): Promise<{ rx: number; tx: number }>;
  /** Spawns a long-running process inside a namespace; killed by destroy(). */
  spawnIn(ns: string, cmd: string, args: readonly string[]): ChildProcess;
  destroy(): Promise<void>;
}

/** Why a lab cannot run here (not root, tool missing), or null when it can. */
export async function labUnavailable(): Promise<string | null> {
  if (process.getuid?.() !== 0) return 'lab tests need root (network namespaces)';
  for (const [cmd, args, pkg] of [
    ['ip', ['-V'], 'iproute2'],
    ['tc', ['-V'], 'iproute2'],
    ['nft', ['--version'], 'nftables'],
  ] as const) {
    try {
      await run(cmd, args, { timeoutMs: 5_000 });
    } catch {
      return `${cmd} missing: apt-get install -y ${pkg}`;
    }
  }
  return null;
}

/** tbf burst: at least 10 kB and 2 ms at the rate (tbf needs burst ≥ rate/HZ; HZ=250 here → 4 ms at 10 kB ≈ 20 Mbit/s). */
function burstBytes(mbit: number): number {
  return Math.max(10_000, Math.round(((mbit * 1e6) / 8) * 0.004));
}

/** tc arguments of the labs' rate shaper on `dev`: tbf at `mbit`, a queue of `queueMs` at the rate. */
export function tbfArgs(dev: string, mbit: number, queueMs: number): string[] {
  return ['qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', `${mbit}mbit`, 'burst', String(burstBytes(mbit)), 'latency', `${queueMs}ms`];
}

/** Creates namespaces `<prefix>a` and `<prefix>b` (prefix must start with lwp-). Always call destroy(). */
export async function createLab(prefix: string): Promise<Lab> {
  if (!prefix.startsWith('lwp-')) throw new Error('probe lab namespaces must start with lwp-');
  const a = `${prefix}a`;
  const b = `${prefix}b`;
  const children = new Set<ChildProcess>();
  const ip = (args: readonly string[]): Promise<unknown> => run('ip', args, { timeoutMs: 10_000 });
  const exec = async (ns: string, cmd: string, args: readonly string[], timeoutMs = 30_000, okCodes = [0]): Promise<string> =>
    (await run('ip', ['netns', 'exec', ns, cmd, ...args], { timeoutMs, okCodes })).stdout;
  const destroy = async (): Promise<void> => {
    for (const c of children) c.kill('SIGKILL');
    for (const ns of [a, b]) await run('ip', ['netns', 'del', ns], { timeoutMs: 10_000 }).catch(() => undefined);
  };
  try {
    for (const ns of [a, b]) await run('ip', ['netns', 'del', ns], { timeoutMs: 10_000 }).catch(() => undefined);
    await ip(['netns', 'add', a]);
    await ip(['netns', 'add', b]);
    const sfx = prefix.slice(4, 8);
    const pairs = [
      { ca: `lwa0${sfx}`, cb: `lwb0${sfx}`, ipa: LAB.clientIp, ipb: LAB.serverIp },
      { ca: `lwa1${sfx}`, cb: `lwb1${sfx}`, ipa: LAB.client2Ip, ipb: LAB.server2Ip },
    ];
    for (const [i, p] of pairs.entries()) {
      await ip(['link', 'add', p.ca, 'netns', a, 'type', 'veth', 'peer', 'name', p.cb, 'netns', b]);
      await exec(a, 'ip', ['addr', 'add', `${p.ipa}/24`, 'dev', p.ca]);
      await exec(b, 'ip', ['addr', 'add', `${p.ipb}/24`, 'dev', p.cb]);
      await exec(a, 'ip', ['link', 'set', p.ca, 'name', `lwp${i}`]);
      await exec(b, 'ip', ['link', 'set', p.cb, 'name', `lwp${i}`]);
      await exec(a, 'ip', ['link', 'set', `lwp${i}`, 'up']);
      await exec(b, 'ip', ['link', 'set', `lwp${i}`, 'up']);
    }
    for (const ns of [a, b]) await exec(ns, 'ip', ['link', 'set', 'lo', 'up']);
    // source-based routing in a: traffic from the second address leaves through lwp1 even to the primary subnet
    await exec(a, 'ip', ['rule', 'add', 'from', LAB.client2Ip, 'lookup', '100']);
    await exec(a, 'ip', ['route', 'add', '10.77.0.0/24', 'dev', 'lwp1', 'table', '100']);
    await exec(b, 'sysctl', ['-q', '-w', 'net.ipv4.conf.all.rp_filter=0']);
    await exec(b, 'sysctl', ['-q', '-w', 'net.ipv4.conf.lwp1.rp_filter=0']);
    for (const ns of [a, b]) await exec(ns, 'nft', ['add table inet lwp; add chain inet lwp in { type filter hook input priority 0; policy accept; }']);
  } catch (e) {
    await destroy();
    throw e;
  }
  return {
    a,
    b,
    exec,
    async shape(mbit, lossPercent, opts = {}) {
      for (const ns of [a, b]) {
        await exec(ns, 'tc', ['qdisc', 'del', 'dev', 'lwp0', 'root']).catch(() => undefined);
        if (mbit !== null) await exec(ns, 'tc', tbfArgs('lwp0', mbit, opts.queueMs ?? 50));
        await exec(ns, 'nft', ['flush chain inet lwp in']);
        const per10k = Math.round(lossPercent * 100);
        if (per10k > 0) await exec(ns, 'nft', [`add rule inet lwp in iifname "lwp0" numgen random mod 10000 < ${per10k} drop`]);
      }
    },
    async counters(iface) {
      const read = async (k: string): Promise<number> => Number((await exec(a, 'cat', [`/sys/class/net/${iface}/statistics/${k}`])).trim());
      return { rx: await read('rx_bytes'), tx: await read('tx_bytes') };
    },
    spawnIn(ns, cmd, args) {
      const c = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
      children.add(c);
      c.on('exit', () => children.delete(c));
      return c;
    },
    destroy,
  };
}

/** Waits (bounded) until a spawned process prints `pattern` on stderr/stdout. */
export function waitForOutput(c: ChildProcess, pattern: RegExp, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const t = setTimeout(() => reject(new Error(`timed out waiting for ${pattern}: ${buf.slice(-500)}`)), timeoutMs);
    const on = (d: Buffer): void => {
      buf += d.toString();
      const m = pattern.exec(buf);
      if (m) {
        clearTimeout(t);
        resolve(m[0]);
      }
    };
    c.stdout?.on('data', on);
    c.stderr?.on('data', on);
    c.once('exit', (code) => {
      clearTimeout(t);
      reject(new Error(`process exited ${code}: ${buf.slice(-500)}`));
    });
  });
}
