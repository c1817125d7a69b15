/** The configuration schema (zod, source of truth): top-level keys and the foundation's own sections. */
import { z } from 'zod';
import { ProbesConfigSchema } from './probes.ts';
import { BufferConfigSchema, SinksConfigSchema } from './buffer.ts';
import { KubernetesConfigSchema } from './k8s.ts';
import { UplinksSchema } from './uplinks.ts';

/** Default status-server address: loopback only, so nothing is exposed without a deliberate change. */
export const DEFAULT_LISTEN = '127.0.0.1:9780';
/** Default state directory for `npm start` and ad-hoc runs; systemd passes $STATE_DIRECTORY instead. */
export const DEFAULT_STATE_DIR = './linkward-state';

const NodeSchema = z
  .strictObject({
    name: z.string().min(1).max(253).optional().describe('Kubernetes Node name; default: $NODE_NAME, else the hostname.'),
  })
  .describe('This node.');

const ListenSchema = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[0-9.]+|localhost):\d{1,5}$/, 'must be HOST:PORT, e.g. 127.0.0.1:9780 or [::1]:9780');

const ServerSchema = z
  .strictObject({
    listen: ListenSchema.default(DEFAULT_LISTEN).describe('Status server address (HOST:PORT). Non-loopback requires a token.'),
    token: z.string().min(16, 'must be at least 16 characters').optional().describe('Bearer token required on /v1/* (required for non-loopback listen).'),
    tokenFile: z.string().optional().describe('File holding the token (preferred over inline token; read at start).'),
    fastPath: z
      .boolean()
      .default(true)
      .describe(
        'Serve plain ingest POSTs (Content-Length, whole in one read, HTTP/1.1 keep-alive) without building node:http request objects: about twice the requests per CPU second. Anything else, and every other endpoint, goes through node:http. false: all through node:http.',
      ),
    pageListen: ListenSchema.optional().describe(
      'Opt-in read-only listener for the status page on the site LAN (e.g. 0.0.0.0:9781): serves only GET / without a token, no API, no actions. Off by default.',
    ),
  })
  .refine((s) => s.pageListen === undefined || s.pageListen !== s.listen, {
    path: ['pageListen'],
    message: 'must differ from server.listen (the page listener is a second, read-only server)',
  })
  .describe('HTTP status server: /healthz, /readyz, /metrics, /v1/status.');

const StateSchema = z
  .strictObject({
    dir: z.string().min(1).optional().describe(`State directory (SQLite database, lock); default: $STATE_DIRECTORY, else ${DEFAULT_STATE_DIR}.`),
  })
  .describe('Local state.');

const LogSchema = z
  .strictObject({
    level: z.enum(['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent']).default('info').describe('Minimum level logged.'),
    format: z.enum(['json', 'pretty']).default('json').describe('json for journald/collectors, pretty for humans.'),
  })
  .describe('Logging.');

export const AgentConfigSchema = z
  .strictObject({
    node: NodeSchema.prefault({}),
    server: ServerSchema.prefault({}),
    state: StateSchema.prefault({}),
    log: LogSchema.prefault({}),
    probes: ProbesConfigSchema.prefault({}),
    uplinks: UplinksSchema,
    kubernetes: KubernetesConfigSchema.prefault({}),
    buffer: BufferConfigSchema.prefault({}),
    sinks: SinksConfigSchema,
  })
  .superRefine((cfg, ctx) => {
    if (cfg.server.token !== undefined && cfg.server.tokenFile !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['server', 'tokenFile'], message: 'set either server.token or server.tokenFile, not both' });
    }
    const selfSink = cfg.buffer.selfTelemetry.sink;
    if (selfSink !== undefined) {
      const sink = cfg.sinks.find((x) => x.name === selfSink);
      if (!sink) ctx.addIssue({ code: 'custom', path: ['buffer', 'selfTelemetry', 'sink'], message: `no sink named "${selfSink}" in sinks` });
      else if (sink.protocol !== 'prometheus-remote-write') {
        ctx.addIssue({
          code: 'custom',
          path: ['buffer', 'selfTelemetry', 'sink'],
          message: `sink "${selfSink}" has protocol ${sink.protocol}; the agent's own telemetry needs prometheus-remote-write`,
        });
      }
    }
  })
  // `uplinks` (either form in the file) becomes the plain list, and its policy an ordinary key `failover`, so no copy
  // of the config (spread, structuredClone, JSON) can lose the policy.
  .transform(({ uplinks, ...rest }) => ({ ...rest, uplinks: uplinks.list, failover: uplinks.policy }));

/** The validated configuration (defaults applied). */
export type AgentConfig = z.infer<typeof AgentConfigSchema>;
/** The configuration as written in a file (everything optional). */
export type AgentConfigInput = z.input<typeof AgentConfigSchema>;
