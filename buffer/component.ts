/** createBufferComponent: the store-and-forward buffer as a daemon component (routes, socket, self-telemetry, status). */
import type { Server } from 'node:http';
import type { AgentContext, Component, ComponentStatus, HttpRoute } from '../agent/runtime/component.ts';
import type { LinkSnapshot } from '../agent/core/types.ts';
import { messageOf } from '../agent/base/errors.ts';
import { adminRoutes, bufferStats } from './admin.ts';
import { backlogWarnings } from './backlog-age.ts';
import { onActiveUplinkChange } from '../agent/base/dispatcher-pool.ts';
import { ingestRoute, type IngestDeps } from './ingest.ts';
import { sampleSeries, seriesBody, transitionSeries } from './self-telemetry.ts';
import { BufferService, type BufferDeps } from './service.ts';
import { closeIngestSocket, listenIngestSocket } from './socket.ts';

/** The component plus the in-process API other parts of the agent may use. */
export interface BufferComponent extends Component {
  readonly service: BufferService;
}

/** `deps`: every adapter, required (`realBufferDeps(ctx)` from `buffer/adapters.ts` in the daemon). */
export function createBufferComponent(ctx: AgentContext, deps: BufferDeps): BufferComponent {
  const cfg = ctx.config.buffer;
  const log = ctx.log.child({ component: 'buffer' });
  const svc = new BufferService(ctx, deps);
  const unsubscribe: (() => void)[] = [];
  let socket: Server | null = null;
  let socketError: string | null = null;
  let selfError: string | null = null;
  const ingest: IngestDeps = {
    sinks: svc.sinks,
    maxRecordBytes: cfg.maxRecordBytes,
    inflight: svc.inflight,
    clock: ctx.clock,
    append: (rec) => svc.append(rec),
    unavailable: () => svc.unavailable,
  };

  /** Appends the agent's own series; failures are counted by the committer and logged, never thrown into the bus. */
  const selfAppend = (sink: string, body: Buffer | null): void => {
    if (body === null) return;
    svc.appendBody(sink, body, { contentType: 'application/x-protobuf' }).catch((e: unknown) => log.warn({ err: messageOf(e) }, 'own telemetry not buffered'));
  };

  function wireSelfTelemetry(): void {
    const name = cfg.selfTelemetry.sink;
    if (name === undefined) return;
    const sink = svc.sinks.get(name);
    if (sink?.protocol !== 'prometheus-remote-write') {
      selfError = `buffer.selfTelemetry.sink "${name}" must name a sink with protocol prometheus-remote-write`;
      log.error(selfError);
      return;
    }
    let prev: LinkSnapshot | null = null;
    unsubscribe.push(ctx.bus.on('sample', (s) => selfAppend(name, seriesBody(sampleSeries(s, ctx.nodeName)))));
    unsubscribe.push(
      ctx.bus.on('link', (snap) => {
        selfAppend(name, seriesBody(transitionSeries(prev, snap, ctx.nodeName)));
        prev = snap;
      }),
    );
  }

  return {
    name: 'buffer',
    service: svc,
    async start() {
      if (!cfg.enabled) return;
      svc.open();
      if (svc.unavailable !== null) return;
      svc.start();
      wireSelfTelemetry();
      // Forwarders react at once to link changes (e.g. down → healthy) instead of at their next poll.
      unsubscribe.push(
        ctx.bus.on('link', () => {
          for (const f of svc.forwarders.values()) f.wake();
        }),
      );
      // A failover moves the default route, but keep-alive connections keep the old uplink's source address (and linkward's
      // own `ip rule from <src>` keeps them on it): the sinks reconnect so telemetry follows the active uplink.
      unsubscribe.push(
        ctx.bus.on(
          'active',
          onActiveUplinkChange(ctx.bus.latestActive(), (from, to) => {
            const fields = { from, to, sinks: [...svc.forwarders.keys()] };
            // The first announcement after start is no change of route: debug only.
            if (from === null) log.debug(fields, 'active uplink announced; sink connections reopened on it');
            else log.info(fields, 'active uplink changed; sink connections reopened on it');
            for (const f of svc.forwarders.values()) f.uplinkChanged();
          }),
        ),
      );
      if (cfg.socket !== undefined) {
        try {
          socket = await listenIngestSocket(cfg.socket, ingest);
        } catch (e) {
          socketError = messageOf(e);
          log.error({ err: socketError }, 'ingest socket not available; HTTP ingest still works');
        }
      }
    },
    async stop() {
      for (const u of unsubscribe.splice(0)) u();
      if (socket && cfg.socket !== undefined) await closeIngestSocket(socket, cfg.socket);
      socket = null;
      await svc.stop();
    },
    status(): ComponentStatus {
      if (!cfg.enabled) return { state: 'disabled', message: 'buffer.enabled is false' };
      if (svc.unavailable !== null) return { state: 'error', message: svc.unavailable };
      if (!svc.store) return { state: 'starting' };
      const details = bufferStats(svc, ctx.clock.nowMs());
      const problems = [socketError, selfError, svc.movedAside ? `corrupt buffer file moved to ${svc.movedAside}` : null].filter(
        (x): x is string => x !== null,
      );
      for (const w of backlogWarnings(svc.store.depth(), svc.sinks, ctx.clock.nowMs())) problems.push(w.message);
      for (const l of svc.recovery?.losses ?? [])
        problems.push(`${l.records} acknowledged record(s) missing at start (${l.reason}: expected ${l.expected}, found ${l.present})`);
      const sinks = [...svc.forwarders.values()].map((f) => f.status());
      for (const s of sinks.filter((x) => x.lastStepError !== null))
        problems.push(`sink ${s.sink}: ${s.ackPendingAttempts > 0 ? 'sent batch not yet recorded: ' : ''}${s.lastStepError}`);
      const failing = sinks.filter((s) => s.attempts > 0);
      if (failing.length > 0) problems.push(`upstream failing: ${failing.map((s) => `${s.sink} (${s.lastError ?? 'error'})`).join(', ')}`);
      return { state: problems.length > 0 ? 'degraded' : 'ok', ...(problems.length > 0 ? { message: problems.join('; ') } : {}), details };
    },
    notReadyReasons(): string[] {
      return cfg.enabled && svc.unavailable !== null ? [`telemetry buffer: ${svc.unavailable}`] : [];
    },
    routes(): HttpRoute[] {
      if (!cfg.enabled) return [];
      return [ingestRoute(ingest), ...adminRoutes(svc, () => ctx.clock.nowMs())];
    },
  };
}
