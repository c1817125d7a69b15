/** Commit-confirm's dead-man switch: plan files, and a pre-started helper process outside the agent that reverts unless cancelled. */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { LwError } from '../base/errors.ts';
import type { Logger } from '../base/log.ts';
import { RouteErrorCode } from './errors.ts';
import { REVERT_HELPER_SOURCE } from './revert-helper-program.ts';

/**
 * Arming waits at most this long for the helper's acknowledgement; without it the switch is not made. Kept at 2 s by
 * measurement (`npm run bench:route-arm -- --load`, 2-core VM, 2026-12-05, 14,329 arms): with 2-20 busy loops at the
 * agent's nice level, gcc compiles and fsync writers, p99 was at most 147 ms per load level and the slowest arm took
 * 484 ms; none went over 1 s and none failed. So a missing acknowledgement means a stuck helper, not a busy node, and
 * waiting longer would only delay that refusal. The wait also comes out of the confirm window, because the deadline is
 * set before arming: an acknowledgement at this limit leaves 3 s of the default 5-s confirmTimeout.
 */
export const ARM_ACK_TIMEOUT_MS = 2_000;
/** A (re)started helper must accept the agent's connection within this long (a Node start under full CPU load took 4.3 s). */
export const HELPER_START_TIMEOUT_MS = 15_000;
/** Connection attempts to a starting helper are spaced this far apart. */
const HELPER_CONNECT_RETRY_MS = 20;
/** A helper that died is restarted after this pause, so a helper that cannot start does not spin the CPU. */
export const HELPER_RESPAWN_MS = 1_000;

/** CLOCK_MONOTONIC in ms: the same value in every process of this boot, never stepped by NTP (unlike Date.now()). */
export function sharedMonoMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

/** What the helper reverts: `cmd` run with each argument list once `revertAtMono` (CLOCK_MONOTONIC ms) has passed. */
export interface RevertPlan {
  /** The confirm deadline the agent enforces (CLOCK_MONOTONIC ms). */
  deadlineMono: number;
  /** When the helper reverts: the deadline plus the grace, so a live agent always decides first. */
  revertAtMono: number;
  /** Wall-clock deadline, for people reading the file. */
  deadlineMs: number;
  cmd: string;
  commands: string[][];
}

export type Launcher = 'detached' | 'systemd-run';

/** Picks the launcher: systemd-run when systemd is PID 1 (a detached child would die with the service's cgroup). */
export function chooseLauncher(
  setting: 'auto' | Launcher,
  systemdRunning = existsSync('/run/systemd/system'),
  insideService = process.env.INVOCATION_ID !== undefined,
): Launcher {
  if (setting !== 'auto') return setting;
  // Inside linkward.service the unit's capability bounds forbid creating transient units (systemd-run
  // needs CAP_SYS_ADMIN); the unit's KillMode=process keeps a detached helper alive instead.
  return systemdRunning && !insideService ? 'systemd-run' : 'detached';
}

/** argv that starts the helper listening on `socketPath`. */
export function helperArgv(
  launcher: Launcher,
  socketPath: string,
  nodePath = process.execPath,
  unit = `linkward-route-revert-${process.pid}-${Date.now()}`,
): string[] {
  const node = [nodePath, '-e', REVERT_HELPER_SOURCE, socketPath];
  return launcher === 'systemd-run' ? ['systemd-run', '--quiet', '--collect', `--unit=${unit}`, '--', ...node] : node;
}

/** The agent's side of the helper: started once, armed per switch by a message (no process start on the critical path). */
export interface RevertHelper {
  /** Starts the helper (or restarts a dead one) and waits until it accepts the connection. */
  start(): Promise<void>;
  /** Writes the plan and waits for the helper's acknowledgement; throws LW_ROUTE_HELPER_FAILED (plan withdrawn) otherwise. */
  arm(planFile: string, plan: RevertPlan): Promise<void>;
  /** Tells the helper to forget a plan the agent has confirmed or claimed (best effort: the rename already decides). */
  disarm(planFile: string): void;
  /** Stops the helper (an armed plan would be reverted). */
  stop(): Promise<void>;
  /** Helper pid (of systemd-run when used), for tests and logs; null when none runs. */
  pid(): number | null;
  /** How many times a dead helper was restarted. */
  restarts(): number;
}

export interface RevertHelperOptions {
  stateDir: string;
  launcher: Launcher;
  log: Logger;
  nodePath?: string;
  onRestart?: () => void;
}

export function createRevertHelper(o: RevertHelperOptions): RevertHelper {
  const socketPath = join(o.stateDir, `route-helper-${process.pid}.sock`);
  let sock: Socket | null = null;
  let child: number | null = null;
  let stopped = false;
  let restarts = 0;
  let starting: Promise<void> | null = null;
  let respawnTimer: NodeJS.Timeout | null = null;
  let buf = '';
  const waiters = new Map<string, (ok: boolean) => void>();

  const onLine = (line: string): void => {
    let m: { op?: string; file?: string };
    try {
      m = JSON.parse(line) as typeof m;
    } catch {
      return;
    }
    const w = m.file !== undefined ? waiters.get(m.file) : undefined;
    if (w) w(m.op === 'armed');
  };
  const lost = (): void => {
    sock = null;
    for (const w of waiters.values()) w(false);
    if (stopped || respawnTimer) return;
    o.log.warn({ pid: child }, 'route revert helper exited; restarting it');
    respawnTimer = setTimeout(() => {
      respawnTimer = null;
      restarts++;
      o.onRestart?.();
      void start().catch((e: unknown) => o.log.error({ err: e }, 'route revert helper could not be restarted'));
    }, HELPER_RESPAWN_MS);
    respawnTimer.unref();
  };

  async function launch(): Promise<void> {
    if (socketPath.length > 100)
      throw new LwError(RouteErrorCode.HELPER_FAILED, `state directory path too long for the helper's socket (${socketPath}); use a shorter state.dir`);
    // Sockets of earlier helpers (one agent per state dir, held by its lock): a helper killed -9 leaves its socket behind.
    for (const f of readdirSync(o.stateDir)) if (/^route-helper-\d+\.sock$/.test(f)) rmSync(join(o.stateDir, f), { force: true });
    const [cmd, ...args] = helperArgv(o.launcher, socketPath, o.nodePath);
    const c = spawn(cmd!, args, { detached: true, stdio: 'ignore', env: { ...process.env, LC_ALL: 'C' } });
    let exited: string | null = null;
    c.on('error', (e) => (exited = e.message));
    c.on('exit', (code, signal) => (exited = `exited ${code ?? signal}`));
    c.unref();
    child = c.pid ?? null;
    const t0 = performance.now();
    while (performance.now() - t0 < HELPER_START_TIMEOUT_MS && (exited === null || o.launcher === 'systemd-run')) {
      const s = await new Promise<Socket | null>((resolve) => {
        const x = connect(socketPath);
        x.once('connect', () => resolve(x));
        x.once('error', () => resolve(null));
      });
      if (s) {
        s.setEncoding('utf8');
        s.on('data', (d: string) => {
          buf += d;
          for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
            onLine(buf.slice(0, i));
            buf = buf.slice(i + 1);
          }
        });
        s.on('error', () => undefined);
        s.once('close', lost);
        s.unref();
        sock = s;
        return;
      }
      await new Promise((r) => setTimeout(r, HELPER_CONNECT_RETRY_MS));
    }
    // systemd-run exits once the transient unit is started: only a detached helper's exit means it failed.
    if (exited !== null && o.launcher === 'detached')
      throw new LwError(RouteErrorCode.HELPER_FAILED, `the route revert helper could not start: ${exited}`, { context: { socketPath, cmd } });
    throw new LwError(RouteErrorCode.HELPER_FAILED, `the route revert helper (${o.launcher}) did not start within ${HELPER_START_TIMEOUT_MS} ms`, {
      context: { socketPath },
    });
  }

  function start(): Promise<void> {
    if (sock) return Promise.resolve();
    starting ??= launch().finally(() => (starting = null));
    return starting;
  }

  return {
    start,
    async arm(planFile, plan) {
      writeFileSync(planFile + '.tmp', JSON.stringify(plan), { mode: 0o600 });
      renameSync(planFile + '.tmp', planFile);
      try {
        if (!sock) await start();
        const acked = await new Promise<boolean>((resolve) => {
          const t = setTimeout(() => resolve(false), ARM_ACK_TIMEOUT_MS);
          waiters.set(planFile, (ok) => {
            clearTimeout(t);
            resolve(ok);
          });
          sock!.write(JSON.stringify({ op: 'arm', file: planFile }) + '\n');
        });
        waiters.delete(planFile);
        if (!acked) throw new Error(`no acknowledgement within ${ARM_ACK_TIMEOUT_MS} ms`);
      } catch (cause) {
        // Withdraw the plan: a helper that acknowledges late then finds nothing to revert.
        try {
          renameSync(planFile, planFile + '.failed');
        } catch {
          /* already gone */
        }
        throw new LwError(RouteErrorCode.HELPER_FAILED, `the route revert helper (${o.launcher}) could not be armed; the switch was not made`, {
          cause,
          context: { planFile },
        });
      }
    },
    disarm(planFile) {
      sock?.write(JSON.stringify({ op: 'disarm', file: planFile }) + '\n');
    },
    async stop() {
      stopped = true;
      if (respawnTimer) clearTimeout(respawnTimer);
      await starting?.catch(() => undefined);
      const s = sock;
      sock = null;
      if (s) await new Promise<void>((r) => s.end(JSON.stringify({ op: 'exit' }) + '\n', () => r()));
      s?.destroy();
    },
    pid: () => child,
    restarts: () => restarts,
  };
}

function take(from: string, to: string): boolean {
  try {
    renameSync(from, to);
    return true;
  } catch {
    return false;
  }
}

/** Takes the plan from the helper (armed → `.agent`) so the agent decides alone; null when the helper already has it. */
export function claimRevert(planFile: string): RevertPlan | null {
  if (!take(planFile, planFile + '.agent')) return null;
  return JSON.parse(readFileSync(planFile + '.agent', 'utf8')) as RevertPlan;
}

/** Marks a claimed plan confirmed (the switch stands). */
export function confirmClaimed(planFile: string): void {
  take(planFile + '.agent', planFile + '.confirmed');
}

/** Records that the agent reverted a claimed plan itself. */
export function revertedClaimed(planFile: string, errors: readonly string[]): void {
  // Written whole, then renamed, so that planStatus() and readers never see a half-written result.
  writeFileSync(planFile + '.result.tmp', JSON.stringify({ revertedAtMs: Date.now(), revertedAtMono: sharedMonoMs(), by: 'agent', errors }));
  renameSync(planFile + '.result.tmp', planFile + '.result');
  rmSync(planFile + '.agent', { force: true });
}

/** What happened to a plan: armed, claimed by the agent, confirmed, being reverted / reverted by the helper, or unknown. */
export function planStatus(planFile: string): 'armed' | 'claimed' | 'confirmed' | 'reverted' | 'reverting' | 'unknown' {
  if (existsSync(planFile)) return 'armed';
  if (existsSync(planFile + '.confirmed')) return 'confirmed';
  if (existsSync(planFile + '.result')) return 'reverted';
  if (existsSync(planFile + '.agent')) return 'claimed';
  if (existsSync(planFile + '.reverting')) return 'reverting';
  return 'unknown';
}
