/** RouteActuator: reads kernel routing state and applies `ip` command lists via agent/exec.ts, idempotently, with dry-run. */
import { systemRunner, type CommandRunner } from '../exec.ts';
import { LwError, codeOf, messageOf } from '../errors.ts';
import type { Logger } from '../log.ts';
import { parseAddrs, parseRoutes, parseRules, type KernelState } from './ip-state.ts';
import { renderCommands, type IpArgv } from './plan.ts';
import { RouteErrorCode } from './errors.ts';

/** `ip` answers in milliseconds; 5 s means netlink is stuck and the next tick should retry. */
export const IP_TIMEOUT_MS = 5_000;

export interface ApplyResult {
  /** Commands run (or printed, in dry-run), as `ip ...` lines. */
  applied: string[];
  /** Commands that failed for a reason other than "already so". */
  errors: { cmd: string; code: string; message: string }[];
}

/** The port the route component mutates the kernel through (fakes implement the same). */
export interface RouteActuator {
  read(): Promise<KernelState>;
  apply(cmds: readonly IpArgv[]): Promise<ApplyResult>;
}

export interface IpActuatorOptions {
  runner?: CommandRunner;
  dryRun?: boolean;
  log: Logger;
  /** Path of the ip binary (default `ip` from PATH). */
  ipPath?: string;
  /** Receives each command line in dry-run mode (the CLI prints them). */
  onDryRun?: (line: string) => void;
}

/** True when a failure means the desired state already holds (add of an existing entry, delete of a missing one). */
export function alreadyDone(argv: IpArgv, stderr: string): boolean {
  const verb = argv[1];
  if ((verb === 'add' || verb === 'replace') && /File exists/i.test(stderr)) return true;
  if ((verb === 'del' || verb === 'delete' || verb === 'flush') && /No such process|No such file or directory|Cannot find device/i.test(stderr)) return true;
  return false;
}

export function createIpActuator(opts: IpActuatorOptions): RouteActuator {
  const runner = opts.runner ?? systemRunner;
  const ip = opts.ipPath ?? 'ip';
  const log = opts.log;
  const out = async (args: string[]): Promise<string> => (await runner.run(ip, args, { timeoutMs: IP_TIMEOUT_MS })).stdout;
  return {
    async read(): Promise<KernelState> {
      const [routes, rules, addrs] = await Promise.all([out(['-4', '-json', 'route', 'show', 'table', 'all']), out(['-4', '-json', 'rule', 'show']), out(['-json', 'addr', 'show'])]);
      return { routes: parseRoutes(routes), rules: parseRules(rules), links: parseAddrs(addrs) };
    },
    async apply(cmds): Promise<ApplyResult> {
      const result: ApplyResult = { applied: [], errors: [] };
      for (const argv of cmds) {
        const line = renderCommands([argv]);
        if (opts.dryRun) {
          result.applied.push(line);
          opts.onDryRun?.(line);
          log.info({ cmd: line, dryRun: true }, 'would run');
          continue;
        }
        try {
          await runner.run(ip, argv, { timeoutMs: IP_TIMEOUT_MS });
          result.applied.push(line);
          log.debug({ cmd: line }, 'ran');
        } catch (e) {
          const stderr = e instanceof LwError ? String(e.context?.stderr ?? '') : '';
          if (alreadyDone(argv, stderr)) {
            result.applied.push(line);
            continue;
          }
          // Keep going: one bad entry must not stop the rest of the desired state (retried next tick).
          result.errors.push({ cmd: line, code: codeOf(e), message: messageOf(e) });
          log.warn({ cmd: line, err: messageOf(e) }, 'ip command failed');
        }
      }
      return result;
    },
  };
}

/** Throws LW_ROUTE_APPLY_FAILED when an apply had errors (for callers that must not continue). */
export function assertApplied(r: ApplyResult, what: string): void {
  if (r.errors.length === 0) return;
  throw new LwError(RouteErrorCode.APPLY_FAILED, `${what}: ${r.errors.length} ip command(s) failed (first: ${r.errors[0]!.cmd}: ${r.errors[0]!.message}); check that linkward has CAP_NET_ADMIN and the uplink settings`, { context: { errors: r.errors } });
}
