/** Conntrack flush after a switch: which address to flush (pure), the exact `conntrack -D` argv, and a runner with dry-run and missing-binary handling. */
import type { Counter } from 'prom-client';
import type { UplinkConfig } from '../config/uplinks.ts';
import { systemRunner, type CommandRunner } from '../base/exec.ts';
import { LwError, codeOf, isLwError, messageOf } from '../base/errors.ts';
import type { Logger } from '../base/log.ts';
import { RouteErrorCode } from './errors.ts';
import type { KernelState } from './ip-state.ts';

/** conntrack dumps the table and deletes entry by entry: ~100k entries on a busy k3s node take a few seconds; 15 s means stuck. */
export const CONNTRACK_TIMEOUT_MS = 15_000;
/** Package that ships the binary on Debian/Ubuntu (`conntrack-tools` on Fedora/RHEL/Alpine). */
export const CONNTRACK_PACKAGE = 'conntrack';
/** `conntrack -D` exits 1 when nothing matched; this stderr line tells that success apart from real errors. */
const DELETED_RE = /(\d+) flow entr(?:y|ies) ha(?:s|ve) been deleted/;

/** One `conntrack` invocation (arguments after `conntrack`). */
export type ConntrackArgv = readonly string[];

/**
 * `conntrack -D` argv deleting the flows source-NATed to `src` (their replies come back to it): pod traffic
 * SNATed/MASQUERADEd onto the abandoned uplink. `--src-nat` keeps the node's own un-NATed connections from `src`
 * (hostNetwork pods, LAN, kube-proxy-DNATed ClusterIP traffic): deleting those would reset them for nothing, since a
 * socket bound to `src` stays bound to it whatever the table says. Only `src`'s address family.
 */
export function conntrackFlushArgs(src: string): ConntrackArgv[] {
  const family = src.includes(':') ? 'ipv6' : 'ipv4';
  return [['-D', '-f', family, '--reply-dst', src, '--src-nat']];
}

/** `conntrack ...` text of a command list (golden tests, dry-run, status). */
export function renderConntrack(cmds: readonly ConntrackArgv[]): string[] {
  return cmds.map((c) => `conntrack ${c.join(' ')}`);
}

/** Entries deleted, from conntrack's "N flow entries have been deleted" (stderr); null when it did not say. */
export function parseDeleted(stderr: string): number | null {
  const m = DELETED_RE.exec(stderr);
  return m ? Number(m[1]) : null;
}

/** The uplink traffic left: `from` after a committed switch, `to` after a rollback (flows NATed to it during the confirm window). */
export function abandonedUplink(result: 'confirmed' | 'applied' | 'rolled-back', from: string | null, to: string): { abandoned: string; kept: string } | null {
  if (from === null || from === to) return null;
  return result === 'rolled-back' ? { abandoned: to, kept: from } : { abandoned: from, kept: to };
}

/**
 * Address of an uplink: configured `sourceAddress`, else the interface's first address now, else the last one seen
 * (the interface may have vanished, e.g. a modem unplugged, which is when a failover happens).
 */
export function uplinkSource(
  name: string,
  uplinks: readonly UplinkConfig[],
  kernel: KernelState | null,
  known: Readonly<Record<string, string>>,
): string | null {
  const u = uplinks.find((x) => x.name === name);
  if (!u) return null;
  if (u.sourceAddress) return u.sourceAddress;
  const addr = kernel?.links.find((l) => l.name === u.interface)?.addrs[0];
  return addr ? addr.split('/')[0]! : (known[name] ?? null);
}

/** What to flush after a switch outcome; null when nothing (no previous uplink, unknown address, or the kept uplink shares it). */
export function flushPlan(
  result: 'confirmed' | 'applied' | 'rolled-back',
  from: string | null,
  to: string,
  srcOf: (name: string) => string | null,
): { uplink: string; src: string } | null {
  const side = abandonedUplink(result, from, to);
  if (!side) return null;
  const src = srcOf(side.abandoned);
  // Never flush the address traffic now uses: that would cut the flows that just moved over.
  if (src === null || src === srcOf(side.kept)) return null;
  return { uplink: side.abandoned, src };
}

export interface ConntrackFlushResult {
  atMs: number;
  uplink: string;
  src: string;
  result: 'ok' | 'failed' | 'missing' | 'dry-run';
  deleted: number;
  commands: string[];
  /** `code` is LW_ROUTE_CONNTRACK_*; `cause` the underlying code (LW_COMMAND_TIMEOUT, LW_COMMAND_FAILED, ...). */
  error?: { code: string; cause?: string; message: string };
}

export interface ConntrackStatus {
  enabled: true;
  path: string;
  dryRun: boolean;
  /** The binary was not found on the last attempt. */
  missing: boolean;
  hint: string | null;
  last: ConntrackFlushResult | null;
}

export interface ConntrackFlusher {
  /** Deletes the entries tied to `src`; never throws (a failed flush must not fail the switch). */
  flush(uplink: string, src: string, nowMs: number): Promise<ConntrackFlushResult>;
  status(): ConntrackStatus;
}

export interface ConntrackFlusherOptions {
  runner?: CommandRunner;
  /** Path of the conntrack binary (default `conntrack` from PATH). */
  conntrackPath?: string;
  dryRun: boolean;
  log: Logger;
  metrics?: { conntrackFlushes: Counter<'result'>; conntrackDeleted: Counter };
  onDryRun?: (line: string) => void;
}

export function createConntrackFlusher(opts: ConntrackFlusherOptions): ConntrackFlusher {
  const runner = opts.runner ?? systemRunner;
  const path = opts.conntrackPath ?? 'conntrack';
  const hint = `install the \`${CONNTRACK_PACKAGE}\` package (apt-get install ${CONNTRACK_PACKAGE}; conntrack-tools on RHEL/Alpine) or set uplinks.policy.flushConntrack: false`;
  let missing = false;
  let warnedMissing = false;
  let last: ConntrackFlushResult | null = null;

  async function runOne(argv: ConntrackArgv): Promise<number> {
    // stdout lists every deleted entry (~150 B each; 100k+ on a busy node): discarded, the count is on stderr.
    const r = await runner.run(path, argv, { timeoutMs: CONNTRACK_TIMEOUT_MS, okCodes: [0, 1], ignoreStdout: true });
    const deleted = parseDeleted(r.stderr);
    if (r.code === 0) return deleted ?? 0;
    if (deleted === 0) return 0; // exit 1 with "0 flow entries have been deleted": nothing matched
    throw new LwError(RouteErrorCode.CONNTRACK_FAILED, `${path} ${argv.join(' ')} exited ${r.code}: ${r.stderr.trim().split('\n')[0] || 'no output'}`);
  }

  return {
    async flush(uplink, src, nowMs) {
      const cmds = conntrackFlushArgs(src);
      const commands = renderConntrack(cmds).map((l) => l.replace(/^conntrack/, path));
      const res: ConntrackFlushResult = { atMs: nowMs, uplink, src, result: 'ok', deleted: 0, commands };
      if (opts.dryRun) {
        for (const line of commands) {
          opts.onDryRun?.(line);
          opts.log.info({ cmd: line, dryRun: true }, 'would run');
        }
        return (last = { ...res, result: 'dry-run' });
      }
      for (const argv of cmds) {
        try {
          res.deleted += await runOne(argv);
        } catch (e) {
          if (isLwError(e, 'LW_COMMAND_NOT_FOUND')) {
            res.result = 'missing';
            res.error = { code: RouteErrorCode.CONNTRACK_MISSING, message: `${path} not found: ${hint}` };
            break; // the second command would fail the same way
          }
          res.result = 'failed';
          res.error = { code: RouteErrorCode.CONNTRACK_FAILED, cause: codeOf(e), message: messageOf(e) };
        }
      }
      missing = res.result === 'missing';
      opts.metrics?.conntrackFlushes.inc({ result: res.result });
      if (res.deleted > 0) opts.metrics?.conntrackDeleted.inc(res.deleted);
      if (res.result === 'ok') opts.log.info({ uplink, src, deleted: res.deleted, cmds: commands }, 'flushed conntrack entries of the abandoned uplink');
      else if (res.result === 'failed')
        opts.log.warn(
          { uplink, src, err: res.error, cmds: commands },
          'conntrack flush failed: established flows may stay bound to the old uplink until they time out',
        );
      else if (!warnedMissing) {
        warnedMissing = true;
        opts.log.warn(
          { uplink, src, code: RouteErrorCode.CONNTRACK_MISSING, hint },
          `${path} not found: NATed flows stay bound to the old uplink's address after a switch; ${hint}`,
        );
      }
      return (last = res);
    },
    status() {
      return { enabled: true, path, dryRun: opts.dryRun, missing, hint: missing ? `${path} not found: ${hint}` : null, last };
    },
  };
}
