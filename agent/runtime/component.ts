/** The contract every daemon component implements (start/stop/status/readiness/routes), and the shared context. */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Database } from 'better-sqlite3';
import type { Clock } from '../base/clock.ts';
import type { Logger } from '../base/log.ts';
import type { AgentConfig } from '../config/schema.ts';
import type { AgentBus } from './bus.ts';

/** State of one component as shown in /v1/status and `linkward status`. */
export type ComponentState = 'starting' | 'ok' | 'degraded' | 'down' | 'disabled' | 'error';

export interface ComponentStatus {
  state: ComponentState;
  /** One line for humans: what is wrong and what to do. */
  message?: string;
  /** JSON-safe details for the fleet manager. */
  details?: Record<string, unknown>;
}

/** A request the server's fast path parsed (agent/http/fast-parse.ts): the target as sent, lower-case header names (each once), the body. */
export interface FastRequest {
  target: string;
  headers: Readonly<Record<string, string>>;
  body: Buffer;
}

/** A fast-path answer: a status and a JSON body (what sendJson would write). */
export interface FastAnswer {
  status: number;
  json: unknown;
}

/** An extra HTTP endpoint a component serves on the agent's status server. */
export interface HttpRoute {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Exact path, or a prefix when `prefix` is true (e.g. `/v1/ingest/`). */
  path: string;
  prefix?: boolean;
  /** `token`: requires `Authorization: Bearer` when server.token is set. `public`: never (health probes). */
  auth: 'token' | 'public';
  handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> | void;
  /**
   * Optional fast path for a POST in the strict subset (agent/http/fast-parse.ts), the token already checked: the
   * answer, or null to leave the request to `handle` (node:http parses it again from its first byte).
   */
  fast?(req: FastRequest): Promise<FastAnswer> | null;
}

/** A long-running part of the daemon (probes, node actuator, buffer, router...). */
export interface Component {
  readonly name: string;
  /** Starts work; resolves once the component is running (not when it is done). */
  start(): Promise<void>;
  /** Stops work and releases resources; must finish within the daemon's stop budget. */
  stop(): Promise<void>;
  status(): ComponentStatus;
  /** Reasons the agent is not ready (empty or absent = ready). */
  notReadyReasons?(): string[];
  /** The component's HTTP routes, read once after it started (they must not change while it runs). */
  routes?(): HttpRoute[];
}

/** What the composition root hands to every component factory. */
export interface AgentContext {
  config: AgentConfig;
  log: Logger;
  clock: Clock;
  metrics: Registry;
  bus: AgentBus;
  /** Absolute path of the state directory (exists, writable, locked by this process). */
  stateDir: string;
  /** Shared state database (`state.dir/state.db`, WAL); tables are prefixed per package. */
  stateDb: Database;
  /** Resolved node name (config, $NODE_NAME, hostname). */
  nodeName: string;
}
