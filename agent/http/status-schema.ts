/** The /v1/status document as a zod schema: source of docs/status-v1.schema.json and the contract fleet managers code against. */
import { z } from 'zod';

/**
 * Version of the /v1/status document. Bump it when a field is removed, renamed or changes meaning; adding an
 * optional field keeps it (clients must ignore fields they do not know).
 */
export const STATUS_SCHEMA_VERSION = 1;

const Health = z.enum(['unknown', 'healthy', 'degraded', 'down']);
const Ms = z.number().describe("milliseconds since the Unix epoch (the daemon's clock; compare with nowMs)");

const Note = z.object({
  code: z
    .string()
    .describe(
      'stable code: target_refused, target_silent, throughput_server_failing, throughput_server_slow, throughput_disabled, budget_spent, measurements_disturbed, throughput_expired, target_unprobed (more may come)',
    ),
  message: z.string(),
  sinceMs: Ms,
});

const Budget = z.object({
  budgetBytes: z.number(),
  usedBytes: z.number(),
  remainingBytes: z.number(),
  resetAtMs: Ms,
  spent: z.boolean(),
});

const Latest = z
  .object({
    atMs: Ms.optional(),
    rttMs: z.number().optional(),
    rttP95Ms: z.number().optional(),
    jitterMs: z.number().optional(),
    lossPercent: z.number().optional().describe('0–100'),
    lossSamples: z.number().optional(),
    downloadMbps: z.number().optional(),
    uploadMbps: z.number().optional(),
    downloadLowerBound: z.boolean().optional().describe('the download figure is "at least" (a cap ended the test)'),
    uploadLowerBound: z.boolean().optional(),
    targetsUp: z.number().optional(),
    targetsTotal: z.number().optional(),
    reachable: z.boolean().optional(),
    carrier: z.boolean().optional(),
    idleRttMs: z.number().optional(),
    loadedRttMs: z.number().optional(),
    responsivenessRpm: z.number().optional(),
  })
  .describe('latest merged figures; a missing field was not measured (never 0)');

const Uplink = z.object({
  name: z.string(),
  health: Health,
  sinceMs: Ms.describe('when health last changed'),
  reasons: z.array(z.string()).describe('why it is not healthy, e.g. down=3.1Mbps<5'),
  latest: Latest,
  measuredAtMs: z.record(z.string(), Ms).optional().describe('per field of latest: when it was measured'),
  heldBy: z.array(z.string()).optional(),
  notes: z.array(Note).optional(),
  budget: Budget.optional(),
});

const Link = z.object({
  atMs: Ms,
  node: Health.describe("the node's state: that of the active uplink"),
  active: z.string().nullable().describe('uplink carrying the default route (null before the first decision)'),
  uplinks: z.record(z.string(), Uplink),
});

const Component = z.object({
  state: z.enum(['starting', 'ok', 'degraded', 'down', 'disabled', 'error']),
  message: z.string().optional(),
  details: z.record(z.string(), z.unknown()).optional().describe('component-specific, not versioned by schemaVersion'),
});

export const StatusDocSchema = z
  .object({
    schemaVersion: z.literal(STATUS_SCHEMA_VERSION),
    version: z.string().describe('linkward version'),
    node: z.string().describe('Kubernetes Node name (or hostname)'),
    nowMs: Ms.describe("the daemon's clock when the document was made"),
    pid: z.number().int(),
    uptimeSeconds: z.number(),
    ready: z.boolean(),
    notReadyReasons: z.array(z.string()),
    config: z
      .object({ kind: z.enum(['defaults', 'file']), path: z.string().optional() })
      .describe('where the configuration came from: the embedded defaults, or a file'),
    stateDir: z.string(),
    stateDbQuarantinedTo: z.string().optional().describe('set when a corrupt state.db was moved aside at start'),
    eventLoopDelayP99Ms: z.number().nullable().optional(),
    link: Link.nullable().optional().describe('absent or null until the first completed measurement'),
    components: z.record(z.string(), Component),
  })
  .describe('linkward GET /v1/status');

export type StatusDoc = z.infer<typeof StatusDocSchema>;

/** The JSON Schema (draft 2020-12) of the document, as committed in docs/status-v1.schema.json; objects stay open (clients ignore unknown fields). */
export function statusJsonSchema(): Record<string, unknown> {
  return { $id: 'https://linkward.io/schemas/status-v1.json', ...(z.toJSONSchema(StatusDocSchema, { io: 'input' }) as Record<string, unknown>) };
}
