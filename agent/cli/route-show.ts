/** `linkward route show` and `route auto`: one call to the daemon's /v1/route endpoints, its answer rendered for people or as JSON. */
import { messageOf } from '../base/errors.ts';
import { Exit, exitForError, exitForStatus } from './exit-codes.ts';
import { daemonGet, daemonPost, daemonTarget, type DaemonOptions } from './client.ts';

type Out = NodeJS.WritableStream;

/** Human summary of GET /v1/route. */
export function renderRouteShow(d: Record<string, unknown>): string {
  const lines = [
    `active: ${String(d.active ?? 'none')}   mode: ${String(d.mode)}${d.override ? `   override: ${JSON.stringify(d.override)}` : ''}${d.dryRun ? '   (dry-run)' : ''}`,
  ];
  lines.push(
    `routes managed: ${d.routesManaged ? 'yes' : 'no'}${(d.k3s as { message?: string } | null)?.message ? ` — ${(d.k3s as { message: string }).message}` : ''}`,
  );
  lines.push(`last decision: ${String(d.lastDecision)}`);
  for (const u of (d.uplinks as { name: string; priority: number; interface: string | null; health: string }[]) ?? []) {
    lines.push(
      `  ${u.name === d.active ? '*' : ' '} ${u.name.padEnd(12)} prio ${String(u.priority).padStart(4)}  ${String(u.interface ?? '-').padEnd(10)} ${u.health}`,
    );
  }
  for (const m of (d.managed as string[]) ?? []) lines.push(`  managed: ${m}`);
  for (const p of (d.problems as string[]) ?? []) lines.push(`  problem: ${p}`);
  if (d.lastError) lines.push(`  error: ${String(d.lastError)}`);
  for (const h of (d.history as { atMs: number; from: string | null; to: string; reason: string; result: string; detail: string }[]) ?? []) {
    lines.push(`  ${new Date(h.atMs).toISOString()} ${h.from ?? '-'} → ${h.to} (${h.reason}) ${h.result}: ${h.detail}`);
  }
  return lines.join('\n') + '\n';
}

/** GET or POST one /v1/route path and print the answer (a GET without --json rendered for people); returns the exit code. */
export async function routeCall(
  o: DaemonOptions & { json?: boolean },
  method: 'GET' | 'POST',
  path: string,
  body: unknown,
  out: Out,
  err: Out,
): Promise<number> {
  try {
    const target = await daemonTarget(o);
    const r = method === 'GET' ? await daemonGet<Record<string, unknown>>(target, path) : await daemonPost<Record<string, unknown>>(target, path, body);
    if (r.status >= 400) {
      err.write(`linkward route: ${String((r.body?.error as { message?: string } | undefined)?.message ?? `daemon answered ${r.status}`)}\n`);
      return exitForStatus(r.status);
    }
    out.write(method === 'GET' && !o.json ? renderRouteShow(r.body) : JSON.stringify(r.body) + '\n');
    return Exit.OK;
  } catch (e) {
    err.write(`linkward route: ${messageOf(e)}\n`);
    return exitForError(e);
  }
}
