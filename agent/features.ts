/** The feature components the daemon can run, each loaded lazily only when enabled (keeps idle RSS low). */
import type { AgentContext, Component } from './runtime/component.ts';

/** One optional feature: its name, whether the config enables it, and a lazy factory. */
export interface Feature {
  name: string;
  enabled(ctx: AgentContext): boolean;
  create(ctx: AgentContext): Promise<Component>;
}

/** Order matters: producers (probes, link) start before consumers (route, node, buffer); stop runs in reverse. */
export const FEATURES: readonly Feature[] = [
  {
    name: 'probes',
    enabled: (ctx) => ctx.config.probes.enabled,
    create: async (ctx) => {
      const [{ createProbesComponent }, { realProbesDeps }] = await Promise.all([import('../probes/component.ts'), import('../probes/adapters.ts')]);
      return createProbesComponent(ctx, realProbesDeps());
    },
  },
  {
    name: 'link',
    enabled: () => true,
    create: async (ctx) => (await import('./link/component.ts')).createLinkComponent(ctx),
  },
  {
    name: 'route',
    enabled: () => true,
    create: async (ctx) => {
      const [{ createRouteComponent }, { realRouteDeps }] = await Promise.all([import('./route/component.ts'), import('./route/adapters.ts')]);
      return createRouteComponent(ctx, realRouteDeps(ctx));
    },
  },
  {
    name: 'node',
    enabled: (ctx) => ctx.config.kubernetes.enabled,
    create: async (ctx) => {
      const [{ createNodeComponent }, { realNodeDeps }] = await Promise.all([import('./k8s/component.ts'), import('./k8s/adapters.ts')]);
      return createNodeComponent(ctx, realNodeDeps(ctx));
    },
  },
  {
    name: 'buffer',
    enabled: (ctx) => ctx.config.buffer.enabled,
    create: async (ctx) => {
      const [{ createBufferComponent }, { realBufferDeps }] = await Promise.all([import('../buffer/component.ts'), import('../buffer/adapters.ts')]);
      return createBufferComponent(ctx, realBufferDeps(ctx));
    },
  },
];
