/** BufferDeps for tests: the real adapters with some replaced, and an opener that hands over a store the test built. */
import type { AgentContext } from '../../agent/runtime/component.ts';
import { realBufferDeps } from '../../buffer/adapters.ts';
import type { BufferDeps } from '../../buffer/service.ts';
import type { Store } from '../../buffer/types.ts';

/** The real adapters (state.dir/buffer.db, undici, Math.random) with `overrides` in their place. */
export function bufferDeps(ctx: AgentContext, overrides: Partial<BufferDeps> = {}): BufferDeps {
  return { ...realBufferDeps(ctx), ...overrides };
}

/** An opener that hands over `store` (no file, no ledger, no recovery); the service closes it at stop. */
export function heldStore(store: Store): BufferDeps['openStore'] {
  return () => ({ store, livePath: null, movedAside: null, recovery: null, close: async () => store.close() });
}
