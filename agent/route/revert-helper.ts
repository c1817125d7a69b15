/** Commit-confirm's dead-man switch: a plan file plus a helper process outside the agent that reverts routes unless cancelled. */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { LwError } from '../errors.ts';
import { RouteErrorCode } from './errors.ts';

/** The helper polls for cancellation this often, so it exits soon after a confirm (and never lingers). */
export const HELPER_POLL_MS = 100;

/** What the helper reverts: `cmd` run with each argument list, once `deadlineMs` (wall clock) has passed. */
export interface RevertPlan {
  deadlineMs: number;
  cmd: string;
  commands: string[][];
}

/**
 * The helper program (plain JS, only node builtins) run with `node -e`, so it works from the source tree and the bundle alike.
 * Ownership of a plan is taken by renaming it: the agent renames to `.confirmed` (cancel) or `.reverting` (agent reverts);
 * the helper renames to `.reverting` before reverting. Exactly one rename wins.
 */
export const REVERT_HELPER_SOURCE = `
const fs = require('node:fs'); const cp = require('node:child_process');
const file = process.argv[process.argv.length - 1];
let plan; try { plan = JSON.parse(fs.readFileSync(file, 'utf8')); } catch { process.exit(0); }
const tick = () => {
  if (!fs.existsSync(file)) process.exit(0);
  if (Date.now() < plan.deadlineMs) return setTimeout(tick, ${HELPER_POLL_MS});
  try { fs.renameSync(file, file + '.reverting'); } catch { process.exit(0); }
  const errors = [];
  for (const args of plan.commands) {
    try { cp.execFileSync(plan.cmd, args, { env: { ...process.env, LC_ALL: 'C' }, timeout: 5000, stdio: ['ignore', 'ignore', 'pipe'] }); }
    catch (e) { const s = String(e.stderr || e.message); if (!/File exists|No such process/.test(s)) errors.push({ args, error: s.slice(0, 300) }); }
  }
  fs.writeFileSync(file + '.result', JSON.stringify({ revertedAtMs: Date.now(), by: 'helper', errors }));
  process.exit(0);
};
tick();
`;

export type Launcher = 'detached' | 'systemd-run';

/** Picks the launcher: systemd-run when systemd is PID 1 (a detached child would die with the service's cgroup). */
export function chooseLauncher(setting: 'auto' | Launcher, systemdRunning = existsSync('/run/systemd/system'), insideService = process.env.INVOCATION_ID !== undefined): Launcher {
  if (setting !== 'auto') return setting;
  // Inside linkward.service the unit's capability bounds forbid creating transient units (systemd-run
  // needs CAP_SYS_ADMIN); the unit's KillMode=process keeps a detached helper alive instead.
  return systemdRunning && !insideService ? 'systemd-run' : 'detached';
}

/** argv that starts the helper for `planFile`. */
export function helperArgv(launcher: Launcher, planFile: string, nodePath = process.execPath, unit = `linkward-route-revert-${process.pid}-${Date.now()}`): string[] {
  const node = [nodePath, '-e', REVERT_HELPER_SOURCE, planFile];
  return launcher === 'systemd-run' ? ['systemd-run', '--quiet', '--collect', `--unit=${unit}`, '--', ...node] : node;
}

/** Writes the plan and starts the helper; returns the helper's pid (of systemd-run when used). */
export function armRevert(planFile: string, plan: RevertPlan, launcher: Launcher): number {
  writeFileSync(planFile + '.tmp', JSON.stringify(plan), { mode: 0o600 });
  renameSync(planFile + '.tmp', planFile);
  const [cmd, ...args] = helperArgv(launcher, planFile);
  try {
    const child = spawn(cmd!, args, { detached: true, stdio: 'ignore', env: { ...process.env, LC_ALL: 'C' } });
    child.unref();
    if (child.pid === undefined) throw new Error(`${cmd} did not start`);
    return child.pid;
  } catch (cause) {
    try { renameSync(planFile, planFile + '.failed'); } catch { /* already gone */ }
    throw new LwError(RouteErrorCode.HELPER_FAILED, `could not start the route revert helper (${launcher}); the switch was not made`, { cause, context: { planFile } });
  }
}

function claim(planFile: string, suffix: string): boolean {
  try {
    renameSync(planFile, planFile + suffix);
    return true;
  } catch {
    return false;
  }
}

/** Cancels the helper after a successful confirm; false when the helper already started reverting. */
export function disarmRevert(planFile: string): boolean {
  return claim(planFile, '.confirmed');
}

/** Takes the plan back from the helper so the agent can revert itself; false when the helper already has it. */
export function claimRevert(planFile: string): RevertPlan | null {
  if (!claim(planFile, '.reverting')) return null;
  return JSON.parse(readFileSync(planFile + '.reverting', 'utf8')) as RevertPlan;
}

/** What happened to a plan: still armed, confirmed, reverting/reverted (and by whom), or unknown. */
export function planStatus(planFile: string): 'armed' | 'confirmed' | 'reverted' | 'reverting' | 'unknown' {
  if (existsSync(planFile)) return 'armed';
  if (existsSync(planFile + '.confirmed')) return 'confirmed';
  if (existsSync(planFile + '.result')) return 'reverted';
  if (existsSync(planFile + '.reverting')) return 'reverting';
  return 'unknown';
}
