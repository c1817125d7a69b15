/** Lab namespaces: removing them kills only what still runs inside (processes the lab started there), then deletes them. */
import { execFileSync } from 'node:child_process';

const IP_TIMEOUT_MS = 10_000;

const ip = (...args: string[]): string =>
  execFileSync('ip', args, { encoding: 'utf8', env: { ...process.env, LC_ALL: 'C' }, timeout: IP_TIMEOUT_MS, stdio: ['ignore', 'pipe', 'pipe'] });

/** Removes each namespace that exists; one that is not there is not an error. */
export function removeNamespaces(names: Iterable<string>): void {
  for (const ns of names) {
    try {
      for (const pid of ip('netns', 'pids', ns)
        .split('\n')
        .map(Number)
        .filter((n) => n > 1)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          /* already gone */
        }
      }
    } catch {
      /* namespace not there */
    }
    try {
      ip('netns', 'del', ns);
    } catch {
      /* not there */
    }
  }
}
