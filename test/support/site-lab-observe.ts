/** Edge-site lab observer: polls what an operator sees (/v1/status, kubectl Node, `ip route` in edge) and keeps a timeline of changes. */
import type { SiteLab } from './site-lab.ts';
import { edgeVia, type Gw } from './site-lab-net.ts';

/** Status + route poll period: fine enough for second-level figures, cheap enough for a starved agent. */
const POLL_MS = 500;
/** kubectl is a 40 MB Go binary: run it every other poll only. */
const KUBECTL_EVERY = 2;

export type EventKind = 'impairment' | 'decision' | 'action' | 'telemetry' | 'step';
export interface TimelineEvent {
  atMs: number;
  kind: EventKind;
  text: string;
}

export interface NodeView {
  labels: Record<string, string>;
  taints: { key: string; value?: string; effect: string }[];
  unschedulable: boolean;
  condition: { status: string; reason?: string } | null;
}

export interface Snapshot {
  atMs: number;
  /** /v1/status (null while the agent does not answer, e.g. killed). */
  status: StatusDoc | null;
  node: NodeView | null;
  via: Gw | null;
}
export interface StatusDoc {
  link?: {
    node: string;
    active: string | null;
    uplinks: Record<string, { health: string; reasons: string[]; latest: { downloadMbps?: number; uploadMbps?: number } }>;
  } | null;
  components: Record<string, { state: string; message?: string; details?: Record<string, unknown> }>;
}

export const CONDITION_TYPE = 'NetworkDegraded';

export function nodeView(json: string): NodeView {
  const o = JSON.parse(json) as {
    metadata: { labels?: Record<string, string> };
    spec: { taints?: NodeView['taints']; unschedulable?: boolean };
    status: { conditions?: { type: string; status: string; reason?: string }[] };
  };
  const c = o.status.conditions?.find((x) => x.type === CONDITION_TYPE);
  return {
    labels: o.metadata.labels ?? {},
    taints: o.spec.taints ?? [],
    unschedulable: o.spec.unschedulable === true,
    condition: c ? { status: c.status, ...(c.reason ? { reason: c.reason } : {}) } : null,
  };
}

/** A short text per part of the view, so changes show as timeline lines. */
function describe(s: Snapshot): Record<string, string> {
  const out: Record<string, string> = {};
  const l = s.status?.link;
  if (s.status) {
    out['decision: node'] = l ? `node ${l.node}, active ${l.active ?? '-'}` : 'no verdict yet';
    for (const [u, v] of Object.entries(l?.uplinks ?? {})) out[`decision: ${u}`] = `${u} ${v.health}${v.reasons.length ? ` (${v.reasons.join(', ')})` : ''}`;
  }
  if (s.node) {
    const lw = Object.entries(s.node.labels)
      .filter(([k]) => k.startsWith('linkward.io/'))
      .map(([k, v]) => `${k.slice(12)}=${v}`)
      .join(' ');
    out['action: labels'] = `labels ${lw || '(none)'}`;
    out['action: taints'] = `taints ${s.node.taints.map((t) => `${t.key}:${t.effect}`).join(' ') || '(none)'}`;
    out['action: cordon'] = s.node.unschedulable ? 'cordoned' : 'schedulable';
    out['action: condition'] = `condition ${CONDITION_TYPE}=${s.node.condition?.status ?? 'absent'}`;
  }
  out['action: route'] = `default route via ${s.via ?? 'none'}`;
  return out;
}

export class Observer {
  readonly t0 = Date.now();
  readonly events: TimelineEvent[] = [];
  latest: Snapshot = { atMs: 0, status: null, node: null, via: null };
  #prev: Record<string, string> = {};
  #running = false;
  #loop: Promise<void> = Promise.resolve();
  #lab: SiteLab;
  #print: ((e: TimelineEvent) => void) | undefined;

  constructor(lab: SiteLab, print?: (e: TimelineEvent) => void) {
    this.#lab = lab;
    this.#print = print;
  }

  mark(kind: EventKind, text: string, atMs = Date.now()): void {
    const e = { atMs, kind, text };
    this.events.push(e);
    this.#print?.(e);
  }

  /** One poll: reads everything, records what changed. */
  async poll(withNode = true): Promise<Snapshot> {
    const status = await this.#lab.json<StatusDoc>('/v1/status').catch(() => null);
    let node = this.latest.node;
    if (withNode) {
      try {
        node = nodeView(this.#lab.kubectl('get', 'node', 'lws-edge', '-o', 'json'));
      } catch {
        /* API unreachable from the script's side: keep the last view */
      }
    }
    let via: Gw | null = null;
    try {
      via = edgeVia();
    } catch {
      /* namespace gone */
    }
    const snap: Snapshot = { atMs: Date.now(), status, node, via };
    for (const [k, v] of Object.entries(describe(snap))) {
      if (this.#prev[k] !== v) {
        this.#prev[k] = v;
        this.mark(k.startsWith('decision') ? 'decision' : 'action', v, snap.atMs);
      }
    }
    if (!status && this.#prev.agent !== 'gone') {
      this.#prev.agent = 'gone';
      this.mark('decision', 'agent not answering /v1/status', snap.atMs);
    } else if (status) this.#prev.agent = 'up';
    this.latest = snap;
    return snap;
  }

  start(): void {
    this.#running = true;
    this.#loop = (async () => {
      for (let i = 0; this.#running; i++) {
        const t = Date.now();
        await this.poll(i % KUBECTL_EVERY === 0);
        await new Promise((r) => setTimeout(r, Math.max(0, POLL_MS - (Date.now() - t))));
      }
    })();
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#loop;
  }

  /** Waits (bounded) until `pred` holds on a fresh snapshot; returns ms since `fromMs`, or null on timeout. */
  async waitFor(pred: (s: Snapshot) => boolean, limitMs: number, fromMs = Date.now()): Promise<number | null> {
    const end = Date.now() + limitMs;
    let seen = this.latest.atMs;
    while (Date.now() < end) {
      if (this.latest.atMs !== seen) {
        seen = this.latest.atMs;
        if (pred(this.latest)) return this.latest.atMs - fromMs;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    return null;
  }

  /** Seconds since the observer started, for the timeline. */
  rel(atMs: number): string {
    return `+${((atMs - this.t0) / 1000).toFixed(1).padStart(6)} s`;
  }
}
