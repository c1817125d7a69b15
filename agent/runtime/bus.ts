/** In-process typed event bus between components (probe results, link snapshots). */
import { EventEmitter } from 'node:events';
import type { LinkSnapshot, ProbeSample } from '../core/types.ts';

/** Events and their payloads. */
export interface AgentEvents {
  /** A probe round finished. */
  sample: [ProbeSample];
  /** The link-state machine published a new snapshot (every evaluation, changed or not). */
  link: [LinkSnapshot];
  /** The failover policy chose the active uplink (name), or null when it has no opinion. */
  active: [string | null];
}

/** Typed wrapper over EventEmitter; a throwing listener never breaks the emitter's caller. */
export class AgentBus {
  readonly #ee = new EventEmitter();
  #latestLink: LinkSnapshot | null = null;
  #latestActive: string | null = null;

  on<K extends keyof AgentEvents>(event: K, fn: (...args: AgentEvents[K]) => void): () => void {
    const wrapped = (...args: AgentEvents[K]): void => {
      try {
        fn(...args);
      } catch (e) {
        this.#ee.emit('listenerError', e);
      }
    };
    this.#ee.on(event, wrapped as (...a: unknown[]) => void);
    return () => this.#ee.off(event, wrapped as (...a: unknown[]) => void);
  }

  emit<K extends keyof AgentEvents>(event: K, ...args: AgentEvents[K]): void {
    if (event === 'link') this.#latestLink = args[0] as LinkSnapshot;
    if (event === 'active') this.#latestActive = args[0] as string | null;
    this.#ee.emit(event, ...args);
  }

  /** Last published link snapshot (null before the first). */
  latestLink(): LinkSnapshot | null {
    return this.#latestLink;
  }

  /** Last active uplink announced by the failover component (null: none announced). */
  latestActive(): string | null {
    return this.#latestActive;
  }

  onListenerError(fn: (e: unknown) => void): void {
    this.#ee.on('listenerError', fn);
  }
}
