/** Edge-site lab report: the timeline (impairments, decisions, actions with times), the figures and the checks, as text. */
import type { TimelineEvent } from './site-lab-observe.ts';
import type { VariantResult } from './site-lab-run.ts';

const s = (ms: number | null | undefined): string => (ms === null || ms === undefined ? 'n/a' : `${(ms / 1000).toFixed(1)} s`);

export function timelineLine(e: TimelineEvent, t0: number): string {
  return `  +${((e.atMs - t0) / 1000).toFixed(1).padStart(6)} s  ${e.kind.padEnd(10)} ${e.text}`;
}

/** The figures of one variant, one per line. */
export function figureLines(r: VariantResult): string[] {
  const out: string[] = [];
  const c = r.cycle;
  if (c) {
    const a = c.accounting;
    out.push(
      `first verdict after start             ${s(c.firstVerdictMs)}`,
      `detection: throttle → gw1 degraded     ${s(c.degradeDetectMs)}`,
      `gw1 speed tests meanwhile             ${c.throttleSetAside ?? 'n/a'}`,
      `switch: throttle → route via gw2       ${s(c.failoverMs)}`,
      `detection: cut → node down             ${s(c.downDetectMs)}`,
      `cut → NoSchedule taint + cordon        ${s(c.downTaintMs)}`,
      `recovery: restore → gw1 healthy        ${s(c.recoveryMs)}`,
      `failback: restore → route via gw1      ${s(c.failbackMs)}`,
      `restore → decorations removed          ${s(c.undecoratedMs)}`,
      `restore → backlog flushed              ${s(c.flushMs)}`,
      `flush rate / pace target / agent gate  ${c.flushKBps?.toFixed(0) ?? 'n/a'} / ${c.paceKBps?.toFixed(0) ?? 'n/a'} / ${c.gateKBps?.toFixed(0) ?? 'n/a'} kB/s`,
      `records buffered (outage end)          ${c.bufferedMax}`,
      `records acknowledged / delivered       ${a ? `${a.acked} / ${a.delivered} (missing ${a.missing.length}, wrong timestamp ${a.wrongTimestamp.length}, not acknowledged ${a.notAcked})` : 'n/a'}`,
      `duplicates                             ${a?.duplicates ?? 'n/a'}`,
      `on metered gw2: high / bulk records    ${c.highOnMetered} / ${c.bulkOnMetered}`,
      `on metered gw2: bytes to VM gw2 / gw1  ${c.vmBytesOnMetered.gw2} / ${c.vmBytesOnMetered.gw1} B`,
      `probe bytes gw1 / gw2                  ${Object.entries(c.probeBytes)
        .map(([k, v]) => `${k} ${(v / 1e6).toFixed(1)} MB`)
        .join(', ')} (whole run, speed tests every 10 s)`,
      `false actions                          ${c.falseActions.length}${c.falseActions.length ? `: ${c.falseActions.join('; ')}` : ''}`,
    );
    if (c.k8sRequestsDuringOutage !== undefined) out.push(`API requests during the outage        ${c.k8sRequestsDuringOutage}`);
  }
  const f = r.flap;
  if (f)
    out.push(
      `flapping: seed ${f.seed}, half-period ${f.halfPeriodMs} ms, ${f.cycles} cycles → ${f.switches} switches, ${f.gw1Transitions} gw1 transitions, ${f.nodeTransitions} node transitions`,
    );
  return out;
}

export function reportText(results: readonly VariantResult[], header: string): string {
  const lines = [header];
  for (const r of results) {
    lines.push('', `== ${r.variant}${r.burners ? ` with ${r.burnerCount} CPU burners` : ' (quiet CPU)'}`, 'timeline:');
    for (const e of r.timeline) lines.push(timelineLine(e, r.t0));
    lines.push('figures:', ...figureLines(r).map((l) => `  ${l}`), 'checks:');
    for (const c of r.checks) lines.push(`  ${c.ok ? 'PASS' : 'FAIL'}  ${c.step}: ${c.name}${c.ok ? '' : ` — ${c.detail}`}`);
    if (r.error) lines.push(`  ERROR ${r.error}`);
    if (r.dir !== '(removed)') lines.push(`lab folder kept: ${r.dir}`);
  }
  return lines.join('\n');
}

/** Checks that failed. */
export function failures(results: readonly VariantResult[]): string[] {
  return results.flatMap((r) => [
    ...r.checks.filter((c) => !c.ok).map((c) => `${c.step}: ${c.name} — ${c.detail}`),
    ...(r.error ? [`${r.variant}: ${r.error}`] : []),
  ]);
}
