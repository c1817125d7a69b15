/** The probes feature's real adapters (the system `ping`, Math.random): built only by the composition root, the labs and benches. */
import { systemRunner } from '../agent/base/exec.ts';
import type { ProbesDeps } from './component.ts';

export function realProbesDeps(): ProbesDeps {
  return { runner: systemRunner, random: Math.random };
}
