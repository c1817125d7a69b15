/** The daemon's components: start in order (a failing one is reported, never fatal), status, stop within a budget. */
import type { AgentContext, Component, ComponentStatus, HttpRoute } from './runtime/component.ts';
import { LwError, ErrorCode, codeOf, messageOf } from './base/errors.ts';
import type { Logger } from './base/log.ts';
import { FEATURES } from './features.ts';
import type { HistoryComponent } from './history/component.ts';

/** What runs: every component created, which started, which failed (name → message), and since when. */
export interface Running {
  ctx: AgentContext;
  components: Component[];
  started: Set<string>;
  failed: Map<string, string>;
  startedAtMs: number;
}

/**
 * The HTTP routes of the started components, for the server's dispatch. Built again only when a component has
 * started since (components only ever join `started`, and each one's routes are fixed once it runs); building them for
 * every request cost every ingest request a dozen route objects.
 */
export function startedRoutes(run: Running): () => HttpRoute[] {
  let builtFor = -1;
  let table: HttpRoute[] = [];
  return () => {
    if (run.started.size !== builtFor) {
      builtFor = run.started.size;
      table = run.components.filter((c) => run.started.has(c.name)).flatMap((c) => c.routes?.() ?? []);
    }
    return table;
  };
}

/** A component's status; a status() that throws reads as state "error" with its message. */
export function safeStatus(c: Component): ComponentStatus {
  try {
    return c.status();
  } catch (e) {
    return { state: 'error', message: messageOf(e) };
  }
}

/** Starts enabled features in order; a failing feature is reported (status, readiness) but never kills the daemon. */
export async function startFeatures(run: Running, log: Logger): Promise<void> {
  for (const f of FEATURES) {
    if (!f.enabled(run.ctx)) continue;
    try {
      const c = await f.create(run.ctx);
      run.components.push(c);
      await c.start();
      run.started.add(c.name);
    } catch (e) {
      const msg = messageOf(e);
      run.failed.set(f.name, msg);
      log.error({ component: f.name, code: codeOf(e), err: e }, `component ${f.name} failed to start`);
    }
  }
}

/** Starts the history recorder and its route as one more component; a failure is reported like a feature's, never fatal. */
export async function startHistory(run: Running, log: Logger, components: () => Record<string, ComponentStatus>): Promise<HistoryComponent | null> {
  try {
    const c = (await import('./history/component.ts')).createHistoryComponent(run.ctx, components);
    run.components.push(c);
    await c.start();
    run.started.add(c.name);
    return c;
  } catch (e) {
    run.failed.set('history', messageOf(e));
    log.error({ component: 'history', code: codeOf(e), err: e }, 'component history failed to start');
    return null;
  }
}

/** Stops started components in reverse start order, each within what is left of `budgetMs` (at least 100 ms). */
export async function stopAll(run: Running, log: Logger, budgetMs: number): Promise<void> {
  const clock = run.ctx.clock;
  const deadline = clock.monoMs() + budgetMs;
  for (const c of [...run.components].reverse()) {
    if (!run.started.has(c.name)) continue;
    const left = Math.max(100, deadline - clock.monoMs());
    let cancel = (): void => {};
    try {
      await Promise.race([
        c.stop(),
        new Promise((_, rej) => (cancel = clock.setTimer(left, () => rej(new LwError(ErrorCode.INTERNAL, `${c.name} did not stop within ${left} ms`))))),
      ]);
    } catch (e) {
      log.warn({ component: c.name, code: codeOf(e) }, messageOf(e));
    } finally {
      cancel();
    }
  }
}
