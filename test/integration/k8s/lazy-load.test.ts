/** The node component must not load @kubernetes/client-node until it starts with a cluster (footprint goal). */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

const root = resolve(import.meta.dirname, '../../..');

/** Runs `code` in a fresh process that records every module URL it loads (module.registerHooks). */
function loadedModules(code: string): string[] {
  const hook = `import { registerHooks } from 'node:module'; globalThis.__seen = []; registerHooks({ load(url, ctx, next) { globalThis.__seen.push(url); return next(url, ctx); } });`;
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', `${hook}\n${code}\nconsole.log(JSON.stringify(globalThis.__seen))`], {
    cwd: root,
    encoding: 'utf8',
  });
  return JSON.parse(out.trim().split('\n').pop() ?? '[]') as string[];
}

test('importing and creating the component with its real adapters (disabled or without a cluster) never loads client-node', () => {
  const seen = loadedModules(`
    const { createNodeComponent } = await import('./agent/k8s/component.ts');
    const { realNodeDeps } = await import('./agent/k8s/adapters.ts');
    const { validateConfig } = await import('./agent/config/load.ts');
    const { AgentBus } = await import('./agent/runtime/bus.ts');
    const { ManualClock } = await import('./agent/base/clock.ts');
    const { silentLogger } = await import('./agent/base/log.ts');
    const { Registry } = await import('prom-client');
    for (const kubernetes of [{ enabled: false }, { kubeconfig: '/nonexistent/kubeconfig' }]) {
      const v = validateConfig({ kubernetes });
      const ctx = { config: v.config, log: silentLogger(), clock: new ManualClock(), metrics: new Registry(), bus: new AgentBus(), stateDir: '/x', stateDb: undefined, nodeName: 'n1' };
      const c = createNodeComponent(ctx, { ...realNodeDeps(ctx), findCluster: () => null });
      await c.start(); await c.stop();
    }`);
  assert.ok(
    seen.some((u) => u.endsWith('/agent/k8s/component.ts')),
    'hook saw the component',
  );
  assert.deepEqual(
    seen.filter((u) => u.includes('@kubernetes/client-node')),
    [],
  );
});

test('with a kubeconfig the client is loaded on start (and only then)', () => {
  const seen = loadedModules(`
    const { createClientNodeApi } = await import('./agent/k8s/client-node-api.ts');
    globalThis.__before = globalThis.__seen.filter((u) => u.includes('@kubernetes/client-node')).length;
    await createClientNodeApi({ kind: 'kubeconfig', path: '/nonexistent', description: 'x' }, 1000).catch((e) => console.error(e.code));
    if (globalThis.__before !== 0) throw new Error('loaded too early');`);
  assert.ok(seen.some((u) => u.includes('@kubernetes/client-node')));
});
