// Guard for benchmarks that run the agent in the host's own network namespace: the host's routes and rules must not change.
// The footprint bench configures two uplinks with `dryRun: true`; a config bug once made the daemon ignore that and
// replace the host's default route. This check turns such a regression into a loud failure instead of a dead network.
import { execFileSync } from 'node:child_process';

/** `ip` output is small and instant; a hung `ip` should not hang the benchmark. */
const IP_TIMEOUT_MS = 5_000;

function ipText(args) {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', timeout: IP_TIMEOUT_MS, env: { ...process.env, LC_ALL: 'C' } });
  } catch (e) {
    return `unavailable: ${e.code ?? e.message}`;
  }
}

/** Text snapshot of every IPv4/IPv6 route table and rule list. */
export function hostRouting() {
  return (
    ['-4 route show table all', '-6 route show table all', '-4 rule show', '-6 rule show']
      // Routes learned from IPv6 router adverts print a countdown (`expires 1795sec`): not a change.
      .map((a) => `## ip ${a}\n${ipText(a.split(' ')).replace(/ expires \d+sec/g, '')}`)
      .join('\n')
  );
}

/** Throws, naming the difference, when the host's routing changed since `before`. */
export function assertHostRoutingUnchanged(before) {
  const after = hostRouting();
  if (after === before) return;
  const was = new Set(before.split('\n'));
  const now = new Set(after.split('\n'));
  const added = [...now].filter((l) => !was.has(l));
  const removed = [...was].filter((l) => !now.has(l));
  throw new Error(`the host's routing changed during the benchmark (it must never be touched):\n+ ${added.join('\n+ ')}\n- ${removed.join('\n- ')}`);
}
