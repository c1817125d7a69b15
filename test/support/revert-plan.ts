/** A revert plan for revert-helper tests: its "revert" appends to a marker file (never the host's ip). Pure apart from the clocks it reads. */
import { join } from 'node:path';
import { sharedMonoMs, type RevertPlan } from '../../agent/route/revert-helper.ts';

/** Due `revertInMs` from now; the agent's deadline `graceMs` before it. */
export function markerPlan(dir: string, revertInMs: number, graceMs: number): { marker: string; plan: RevertPlan } {
  const marker = join(dir, 'reverted.txt');
  const now = sharedMonoMs();
  return {
    marker,
    plan: {
      deadlineMono: now + revertInMs - graceMs,
      revertAtMono: now + revertInMs,
      deadlineMs: Date.now() + revertInMs - graceMs,
      cmd: process.execPath,
      commands: [['-e', `require('node:fs').appendFileSync(${JSON.stringify(marker)}, 'reverted\\n')`]],
    },
  };
}
