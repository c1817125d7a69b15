/** Runs the edge-site lab's variants (each on a fresh site), quiet or with CPU burners, and returns checks, figures and timelines. */
import { startBurners, type Burners } from './cpu-burners.ts';
import { createSiteLab, type SiteLab } from './site-lab.ts';
import { runFlapping, type FlapFigures } from './site-lab-flap.ts';
import { removeSiteNet } from './site-lab-net.ts';
import { Observer, type TimelineEvent } from './site-lab-observe.ts';
import { runCycle, type Check, type CycleFigures } from './site-lab-scenario.ts';

/** main: steps 1–4; kill: the same with kill -9 mid-outage (step 5); flap: step 6; remote-api: steps 1–4 with the API server in inet (step 7). */
export type Variant = 'main' | 'kill' | 'flap' | 'remote-api';
export const ALL_VARIANTS: readonly Variant[] = ['main', 'kill', 'flap', 'remote-api'];

export interface SiteRunOpts {
  variants: readonly Variant[];
  burners: boolean;
  seed: number;
  /** Live timeline lines (npm run lab prints them as they happen). */
  print?: (e: TimelineEvent, t0: number) => void;
  /** Keep the lab folder (config, logs, acks) for inspection; printed in the result. */
  keepDir?: boolean;
}

export interface VariantResult {
  variant: Variant;
  burners: boolean;
  burnerCount: number;
  t0: number;
  cycle?: CycleFigures;
  flap?: FlapFigures;
  checks: Check[];
  timeline: TimelineEvent[];
  dir: string;
  error?: string;
}

let current: SiteLab | null = null;
let burners: Burners | null = null;

/** SIGINT/SIGTERM: remove the site (namespaces, processes) and the burners before exiting. */
export function siteCleanupOnSignal(): () => void {
  const on = (sig: NodeJS.Signals): void => {
    try {
      burners?.stop();
      current?.destroy();
      removeSiteNet();
    } finally {
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
  };
  process.once('SIGINT', on);
  process.once('SIGTERM', on);
  return () => {
    process.off('SIGINT', on);
    process.off('SIGTERM', on);
  };
}

async function runVariant(v: Variant, o: SiteRunOpts): Promise<VariantResult> {
  const lab = await createSiteLab({ apiWhere: v === 'remote-api' ? 'inet' : 'edge' });
  current = lab;
  const obs = new Observer(lab, o.print ? (e) => o.print!(e, obs.t0) : undefined);
  const label = `${v}${o.burners ? '+burners' : ''}`;
  const res: VariantResult = { variant: v, burners: o.burners, burnerCount: burners?.count ?? 0, t0: obs.t0, checks: [], timeline: obs.events, dir: lab.dir };
  let failed = false;
  try {
    if (v === 'flap') res.flap = await runFlapping(lab, obs, res.checks, o.seed);
    else res.cycle = await runCycle(lab, obs, res.checks, { label, kill: v === 'kill' });
    res.checks.push({
      step: `${label}`,
      name: 'agent still running at the end',
      ok: lab.agent?.exitCode === null && lab.agent?.signalCode === null,
      detail: `exit ${lab.agent?.exitCode} signal ${lab.agent?.signalCode}`,
    });
  } catch (e) {
    failed = true;
    res.error = (e as Error).stack ?? String(e);
  } finally {
    await obs.stop();
    await lab.stopAgent();
    const keep = o.keepDir || failed || res.checks.some((c) => !c.ok);
    lab.destroy(keep);
    if (!keep) res.dir = '(removed)';
    current = null;
  }
  return res;
}

/** Each variant on a fresh site (no damping penalty or buffer carried over); burners run through all of them when asked. */
export async function runSite(o: SiteRunOpts): Promise<VariantResult[]> {
  const out: VariantResult[] = [];
  if (o.burners) burners = startBurners();
  try {
    for (const v of o.variants) out.push(await runVariant(v, o));
  } finally {
    burners?.stop();
    burners = null;
  }
  return out;
}
