/** Network lab for the buffer's pacing test: namespaces `lwb5-a` (agent) and `lwb5-b` (upstream), one veth, tbf upload. */
import { spawn, type ChildProcess } from 'node:child_process';
import { run } from '../../agent/base/exec.ts';

/** Own prefix (buffer, session 5) so no other lab's namespaces are touched. */
export const BUFFER_LAB = { prefix: 'lwb5-', agentIp: '10.79.5.1', upstreamIp: '10.79.5.2' } as const;
/** tbf queue at the rate: long enough not to drop a paced burst. */
const TBF_LATENCY_MS = 100;

export interface BufferLab {
  a: string;
  b: string;
  /** Interface names inside a and b. */
  ifA: string;
  ifB: string;
  exec(ns: string, cmd: string, args: readonly string[], timeoutMs?: number): Promise<string>;
  spawnIn(ns: string, cmd: string, args: readonly string[], env?: NodeJS.ProcessEnv): ChildProcess;
  destroy(): Promise<void>;
}

/** Creates the namespaces and shapes a→b to `mbit` with tbf. Always call destroy(). */
export async function createBufferLab(mbit: number): Promise<BufferLab> {
  const a = `${BUFFER_LAB.prefix}a`;
  const b = `${BUFFER_LAB.prefix}b`;
  const ifA = 'lwb5a';
  const ifB = 'lwb5b';
  const children = new Set<ChildProcess>();
  const exec = async (ns: string, cmd: string, args: readonly string[], timeoutMs = 30_000): Promise<string> =>
    (await run('ip', ['netns', 'exec', ns, cmd, ...args], { timeoutMs })).stdout;
  const destroy = async (): Promise<void> => {
    for (const c of children) c.kill('SIGKILL');
    for (const ns of [a, b]) await run('ip', ['netns', 'del', ns], { timeoutMs: 10_000 }).catch(() => undefined);
  };
  try {
    for (const ns of [a, b]) await run('ip', ['netns', 'del', ns], { timeoutMs: 10_000 }).catch(() => undefined);
    for (const ns of [a, b]) await run('ip', ['netns', 'add', ns], { timeoutMs: 10_000 });
    await run('ip', ['link', 'add', ifA, 'netns', a, 'type', 'veth', 'peer', 'name', ifB, 'netns', b], { timeoutMs: 10_000 });
    await exec(a, 'ip', ['addr', 'add', `${BUFFER_LAB.agentIp}/24`, 'dev', ifA]);
    await exec(b, 'ip', ['addr', 'add', `${BUFFER_LAB.upstreamIp}/24`, 'dev', ifB]);
    for (const [ns, dev] of [
      [a, ifA],
      [b, ifB],
    ] as const) {
      await exec(ns, 'ip', ['link', 'set', dev, 'up']);
      await exec(ns, 'ip', ['link', 'set', 'lo', 'up']);
    }
    // tbf needs burst ≥ rate/HZ; 10 kB covers up to ~20 Mbit/s here.
    await exec(a, 'tc', ['qdisc', 'add', 'dev', ifA, 'root', 'tbf', 'rate', `${mbit}mbit`, 'burst', '10000', 'latency', `${TBF_LATENCY_MS}ms`]);
  } catch (e) {
    await destroy();
    throw e;
  }
  return {
    a,
    b,
    ifA,
    ifB,
    exec,
    destroy,
    spawnIn(ns, cmd, args, env) {
      const c = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: env ?? process.env });
      children.add(c);
      c.on('exit', () => children.delete(c));
      return c;
    },
  };
}
