/** RouteActuator: reads kernel routing state (unknown when in doubt) and applies `ip` command lists via agent/base/exec.ts, idempotently, with dry-run. */
import { Counter, type Registry } from 'prom-client';
import { systemClock } from '../base/clock.ts';
import { systemRunner, type CommandRunner } from '../base/exec.ts';
import { LwError, codeOf, isLwError, messageOf } from '../base/errors.ts';
import type { Logger } from '../base/log.ts';
import {
  implausible,
  parseAddrs,
  parseRoutes,
  parseRules,
  type Family,
  type KernelRead,
  type KernelState,
  type StatePart,
  type UnknownReason,
} from './ip-state.ts';
import { renderCommands, type IpArgv } from './plan.ts';
import { RouteErrorCode } from './errors.ts';

/** `ip` answers in milliseconds; 5 s means netlink is stuck and the next tick should retry. */
export const IP_TIMEOUT_MS = 5_000;
/**
 * Reads tried before the state is reported unknown. A netlink dump that a concurrent change interrupts (iproute2:
 * "Dump was interrupted and may be inconsistent") or a process that dies early succeeds when simply repeated; a
 * timeout is not repeated (a stuck netlink would only cost another IP_TIMEOUT_MS; the next evaluation retries).
 */
export const READ_ATTEMPTS = 3;
/** Pause between read attempts: long enough for a burst of DHCP/RA route changes to settle, short next to a probe round. */
export const READ_RETRY_MS = 100;

export interface ApplyResult {
  /** Commands run (or printed, in dry-run), as `ip ...` lines. */
  applied: string[];
  /** The same commands as argument arrays: what took effect (or would, in dry-run), so callers never infer it from the plan. */
  done: IpArgv[];
  /** Commands that failed for a reason other than "already so" (`argv`: the arguments, for callers that classify them). */
  errors: { cmd: string; argv: IpArgv; code: string; message: string }[];
}

/** The port the route component mutates the kernel through (fakes implement the same). */
export interface RouteActuator {
  /** Kernel state from a complete read; throws LW_ROUTE_STATE_UNKNOWN when the read is unknown (never a guessed empty state). */
  read(): Promise<KernelState>;
  /** The same read as a value: `{ known: false, why }` instead of an error. */
  readState(): Promise<KernelRead>;
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
  /** Families to read (default [4]); 6 is read only when an uplink is dual-stack, so hosts without IPv6 are unaffected. */
  families?: readonly Family[];
  /** Waits between read attempts (default: real time); unit tests pass an instant one. */
  sleep?: (ms: number) => Promise<void>;
  /** Registers `linkward_route_state_unknown_total` here. */
  registry?: Registry;
}

/** The `ip` reads of one kernel snapshot, per family. */
function readArgs(families: readonly Family[]): [StatePart, string[]][] {
  const parts: [StatePart, string[]][] = [
    ['routes', ['-4', '-json', 'route', 'show', 'table', 'all']],
    ['rules', ['-4', '-json', 'rule', 'show']],
    ['addrs', ['-json', 'addr', 'show']],
  ];
  if (families.includes(6)) parts.push(['routes6', ['-6', '-json', 'route', 'show', 'table', 'all']], ['rules6', ['-6', '-json', 'rule', 'show']]);
  return parts;
}

type Unknown = Extract<KernelRead, { known: false }>;

/** Metric of unknown reads (registered once per registry). */
function unknownCounter(registry: Registry | undefined): Counter<'part' | 'reason'> | null {
  if (!registry) return null;
  const name = 'linkward_route_state_unknown_total';
  return (
    (registry.getSingleMetric(name) as Counter<'part' | 'reason'> | undefined) ??
    new Counter({
      name,
      help: 'Kernel state reads (ip route/rule/addr) that were unknown after every retry, by part and reason (failed, timeout, empty, garbage, incomplete); nothing is deleted on them.',
      labelNames: ['part', 'reason'] as const,
      registers: [registry],
    })
  );
}

/** True when a failure means the desired state already holds (add of an existing entry, delete of a missing one). */
export function alreadyDone(argv: IpArgv, stderr: string): boolean {
  const verb = argv[argv[0] === '-6' || argv[0] === '-4' ? 2 : 1];
  if ((verb === 'add' || verb === 'replace') && /File exists/i.test(stderr)) return true;
  if ((verb === 'del' || verb === 'delete' || verb === 'flush') && /No such process|No such file or directory|Cannot find device/i.test(stderr)) return true;
  return false;
}

export function createIpActuator(opts: IpActuatorOptions): RouteActuator {
  const runner = opts.runner ?? systemRunner;
  const ip = opts.ipPath ?? 'ip';
  const log = opts.log;
  const families: Family[] = opts.families?.includes(6) ? [4, 6] : [4];
  const sleep = opts.sleep ?? ((ms: number) => systemClock.sleep(ms));
  const unknownTotal = unknownCounter(opts.registry);

  /** One attempt: every part read, parsed strictly and cross-checked; the first doubtful part makes it unknown. */
  async function readOnce(): Promise<KernelRead> {
    const outs = await Promise.all(
      readArgs(families).map(async ([part, args]): Promise<{ part: StatePart; text: string } | Unknown> => {
        const cmd = `ip ${args.join(' ')}`;
        try {
          const r = await runner.run(ip, args, { timeoutMs: IP_TIMEOUT_MS });
          if (/Dump was interrupted/i.test(r.stderr))
            return { known: false, part, reason: 'incomplete', why: `\`${cmd}\` was interrupted by a concurrent change (partial dump)` };
          return { part, text: r.stdout };
        } catch (e) {
          return { known: false, part, reason: isLwError(e, 'LW_COMMAND_TIMEOUT') ? 'timeout' : 'failed', why: `\`${cmd}\` failed: ${messageOf(e)}` };
        }
      }),
    );
    const failed = outs.find((o): o is Unknown => 'known' in o);
    if (failed) return failed;
    const text = (p: StatePart): string => (outs.find((o) => !('known' in o) && o.part === p) as { text: string } | undefined)?.text ?? '';
    const state: KernelState = { routes: [], rules: [], links: [], families };
    const parsers: [StatePart, () => void][] = [
      ['routes', () => state.routes.push(...parseRoutes(text('routes')))],
      ['rules', () => state.rules.push(...parseRules(text('rules')))],
      ['addrs', () => state.links.push(...parseAddrs(text('addrs')))],
      ...(families.includes(6)
        ? ([
            ['routes6', () => state.routes.push(...parseRoutes(text('routes6'), 6))],
            ['rules6', () => state.rules.push(...parseRules(text('rules6'), 6))],
          ] as [StatePart, () => void][])
        : []),
    ];
    for (const [part, parse] of parsers) {
      try {
        parse();
      } catch (e) {
        const reason = (isLwError(e) ? e.context?.reason : undefined) as UnknownReason | undefined;
        return { known: false, part, reason: reason ?? 'garbage', why: messageOf(e) };
      }
    }
    const odd = implausible(state);
    if (odd) return { known: false, part: odd.part, reason: 'incomplete', why: odd.why };
    return { known: true, state };
  }

  async function readState(): Promise<KernelRead> {
    let r: KernelRead = await readOnce();
    for (let i = 1; i < READ_ATTEMPTS && !r.known && r.reason !== 'timeout'; i++) {
      await sleep(READ_RETRY_MS);
      r = await readOnce();
    }
    if (!r.known) {
      unknownTotal?.inc({ part: r.part, reason: r.reason });
      log.warn({ part: r.part, reason: r.reason, why: r.why }, 'kernel routing state unknown: nothing is changed or deleted until a read succeeds');
    }
    return r;
  }

  return {
    readState,
    async read(): Promise<KernelState> {
      const r = await readState();
      if (!r.known) throw unknownError(r);
      return r.state;
    },
    async apply(cmds): Promise<ApplyResult> {
      const result: ApplyResult = { applied: [], done: [], errors: [] };
      for (const argv of cmds) {
        const line = renderCommands([argv]);
        if (opts.dryRun) {
          result.applied.push(line);
          result.done.push(argv);
          opts.onDryRun?.(line);
          log.info({ cmd: line, dryRun: true }, 'would run');
          continue;
        }
        try {
          await runner.run(ip, argv, { timeoutMs: IP_TIMEOUT_MS });
          result.applied.push(line);
          result.done.push(argv);
          log.debug({ cmd: line }, 'ran');
        } catch (e) {
          const stderr = e instanceof LwError ? String(e.context?.stderr ?? '') : '';
          if (alreadyDone(argv, stderr)) {
            result.applied.push(line);
            result.done.push(argv);
            continue;
          }
          // Keep going: one bad entry must not stop the rest of the desired state (retried next tick).
          result.errors.push({ cmd: line, argv, code: codeOf(e), message: messageOf(e) });
          log.warn({ cmd: line, err: messageOf(e) }, 'ip command failed');
        }
      }
      return result;
    },
  };
}

/** The LW_ROUTE_STATE_UNKNOWN error for an unknown read (callers branch on the code; context has part and reason). */
export function unknownError(r: Unknown): LwError {
  return new LwError(
    RouteErrorCode.STATE_UNKNOWN,
    `kernel routing state unknown (${r.part}: ${r.why}); nothing was changed or deleted; retried within 10 s (sooner with a shorter failover.reapplyInterval)`,
    { context: { part: r.part, reason: r.reason } },
  );
}

/** Throws LW_ROUTE_APPLY_FAILED when an apply had errors (for callers that must not continue). */
export function assertApplied(r: ApplyResult, what: string): void {
  if (r.errors.length === 0) return;
  throw new LwError(
    RouteErrorCode.APPLY_FAILED,
    `${what}: ${r.errors.length} ip command(s) failed (first: ${r.errors[0]!.cmd}: ${r.errors[0]!.message}); check that linkward has CAP_NET_ADMIN and the uplink settings`,
    { context: { errors: r.errors } },
  );
}
