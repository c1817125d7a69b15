/** Restore on stop (pure planning + one read/apply): the default routes found before linkward come back, then linkward's own go, never the last one. */
import { messageOf } from '../base/errors.ts';
import type { Logger } from '../base/log.ts';
import type { ApplyResult, RouteActuator } from './actuator.ts';
import { famOf, familyArgs, mainDefaults, routeArgs, type Family, type KernelRoute, type KernelState } from './ip-state.ts';
import { mainMetricOf, type IpArgv, type PlanOptions } from './plan.ts';

/** The main default routes that are not linkward's (its `proto`), in every family read. */
export function hostDefaults(kernel: KernelState, opts: Pick<PlanOptions, 'routeProto'>): KernelRoute[] {
  return (kernel.families ?? [4]).flatMap((f) => mainDefaults(kernel, f).filter((d) => d.protocol !== String(opts.routeProto)));
}

/** The default routes found before linkward, and the families they were looked for in (a family looked in with no route had none). */
export interface OriginalDefaults {
  families: Family[];
  routes: KernelRoute[];
}

/** Nothing remembered (no state.db, first start not reached): each family's last default route is kept. */
export const NO_ORIGINALS: OriginalDefaults = { families: [], routes: [] };

const same = (a: KernelRoute, b: KernelRoute): boolean => famOf(a) === famOf(b) && a.metric === b.metric && a.gateway === b.gateway && a.dev === b.dev;

/**
 * What to remember as "before linkward", from what was remembered and the kernel now. Per family: the host's own
 * defaults now, plus remembered ones at linkward's metric that are gone (linkward's `replace` overwrote them: the only
 * host routes it can destroy). If the host has no default of a family now, everything remembered for it is kept.
 */
export function mergeOriginals(saved: OriginalDefaults, kernel: KernelState, opts: Pick<PlanOptions, 'routeProto' | 'mainMetric'>): OriginalDefaults {
  const now = hostDefaults(kernel, opts);
  const read = kernel.families ?? [4];
  const out: KernelRoute[] = [];
  for (const f of [4, 6] as Family[]) {
    const cur = now.filter((d) => famOf(d) === f);
    const old = saved.routes.filter((d) => famOf(d) === f);
    if (!read.includes(f) || cur.length === 0) out.push(...old);
    else out.push(...cur, ...old.filter((o) => o.metric === mainMetricOf(f, opts.mainMetric) && !cur.some((c) => same(c, o))));
  }
  return { families: ([4, 6] as Family[]).filter((f) => read.includes(f) || saved.families.includes(f)), routes: out };
}

/**
 * Commands returning the main table to `originals` (per family read): first re-add (`replace`) the originals linkward
 * overwrote (same metric as one of its routes), and, if the host would otherwise have no default of that family, the
 * other missing originals whose interface is up; then delete linkward's remaining defaults, each only while another
 * default remains. Never leaves a family without a default route it had: only where the host is remembered to
 * have had no default of a family (typically IPv6) does linkward's last one go, as it was linkward's own addition.
 */
export function restoreCommands(kernel: KernelState, originals: OriginalDefaults, opts: Pick<PlanOptions, 'routeProto'>): IpArgv[] {
  const cmds: IpArgv[] = [];
  const proto = String(opts.routeProto);
  const linkUp = (dev: string | undefined): boolean => dev === undefined || kernel.links.find((l) => l.name === dev)?.up === true;
  for (const f of kernel.families ?? [4]) {
    const fa = familyArgs(f);
    const defs = mainDefaults(kernel, f);
    const ours = defs.filter((d) => d.protocol === proto);
    const others = defs.filter((d) => d.protocol !== proto);
    const missing = originals.routes.filter((o) => famOf(o) === f && o.table === 'main' && !others.some((d) => same(d, o)) && linkUp(o.dev));
    const put = (o: KernelRoute): void => void cmds.push([...fa, 'route', 'replace', ...routeArgs(o)]);
    const restored = missing.filter((o) => ours.some((d) => d.metric === o.metric));
    if (others.length + restored.length === 0) restored.push(...missing);
    restored.forEach(put);
    // Deleting ours never lowers this count: only the host's own (and restored) defaults keep a family reachable.
    const remaining = others.length + restored.length;
    const hadNone = originals.families.includes(f) && !originals.routes.some((o) => famOf(o) === f);
    for (const d of ours) {
      if (restored.some((o) => o.metric === d.metric)) continue; // the replace above took its place
      if (remaining < 1 && !hadNone) continue; // never the last default route
      cmds.push([
        ...fa,
        'route',
        'del',
        'default',
        ...(d.gateway ? ['via', d.gateway] : []),
        ...(d.dev ? ['dev', d.dev] : []),
        'metric',
        String(d.metric),
        'proto',
        proto,
      ]);
    }
  }
  return cmds;
}

/** Store the originals need (a subset of RouteStore). */
export interface OriginalsStore {
  loadOriginalDefaults(): OriginalDefaults;
  saveOriginalDefaults(o: OriginalDefaults): void;
}

/** At start, before any change: remembers the host's default routes (merged with what was remembered, see mergeOriginals). Never throws. */
export async function captureOriginalDefaults(
  act: RouteActuator,
  store: OriginalsStore,
  opts: Pick<PlanOptions, 'routeProto' | 'mainMetric'>,
  log: Logger,
): Promise<OriginalDefaults> {
  const saved = store.loadOriginalDefaults();
  const r = await act.readState();
  if (!r.known) {
    log.warn({ why: r.why }, 'could not read the default routes before changing anything; keeping the ones remembered');
    return saved;
  }
  const merged = mergeOriginals(saved, r.state, opts);
  store.saveOriginalDefaults(merged);
  log.info(
    { originals: merged.routes.map((d) => `${famOf(d) === 6 ? '-6 ' : ''}${routeArgs(d).join(' ')}`) },
    'remembered the default routes found before linkward',
  );
  return merged;
}

/** On stop: puts the remembered default routes back and removes linkward's (never the last). Never throws; returns what ran. */
export async function restoreDefaults(
  act: RouteActuator,
  store: OriginalsStore,
  opts: Pick<PlanOptions, 'routeProto'>,
  log: Logger,
): Promise<ApplyResult | null> {
  try {
    const r = await act.readState();
    if (!r.known) {
      log.error({ why: r.why }, 'default routes not restored: kernel state unknown; run `linkward route cleanup` once it reads again');
      return null;
    }
    const cmds = restoreCommands(r.state, store.loadOriginalDefaults(), opts);
    if (cmds.length === 0) return { applied: [], done: [], errors: [] };
    const res = await act.apply(cmds);
    log[res.errors.length > 0 ? 'error' : 'info'](
      { applied: res.applied, errors: res.errors },
      res.errors.length > 0 ? 'restoring the default routes failed in part' : 'restored the default routes found before linkward',
    );
    return res;
  } catch (e) {
    log.error({ err: messageOf(e) }, 'default routes not restored');
    return null;
  }
}
