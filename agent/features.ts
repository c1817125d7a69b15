/** The feature components the daemon can run, each loaded lazily only when enabled (keeps idle RSS low). */
import type { AgentContext, Component } from './component.ts';

/** One optional feature: its name, whether the config enables it, and a lazy factory. */
export interface Feature {
  name: string;
  enabled(ctx: AgentContext): boolean;
  create(ctx: AgentContext): Promise<Component>;
}

/** Order matters: producers (probes, link) start before consumers (route, node, buffer). */
export const FEATURES: readonly Feature[] = [];
