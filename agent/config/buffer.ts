/** Config schemas of `buffer` and `sinks` (owned by the buffer package). */
import { z } from 'zod';

/** Default cap on stored telemetry: 256 MiB holds ~1.3 M 200-byte records (a day at 15 rec/s) on a small SD card. */
export const DEFAULT_MAX_BYTES = 256 * 1024 * 1024;
/** Largest single ingested body: 4 MiB covers a remote-write or OTLP batch; larger is a client bug (413). */
export const DEFAULT_MAX_RECORD_BYTES = 4 * 1024 * 1024;
/**
 * Ingest bodies held in memory at once (being received or waiting for their commit): one record of the default
 * maxRecordBytes, or many small ones (64 clients × 200 B never wait). 64 clients posting 1 MiB bodies took the agent
 * to 247 MB RSS without a bound (docs/bench/buffer.md); the rest of that peak is dead chunks V8 collects late.
 */
export const DEFAULT_MAX_INFLIGHT_BYTES = 4 * 1024 * 1024;
/** Group commit waits at most this long for more records (0 = next event-loop turn); bounds added ack latency. */
export const DEFAULT_COMMIT_DELAY_MS = 0;
/** Group commit seals a transaction at this many records: 1000 × 200 B commits in ~5 ms here, so one commit never blocks the loop for long. */
export const DEFAULT_COMMIT_MAX_RECORDS = 1_000;

/** Records per merged request: sealing or acking 1000 rows takes ~10 ms here, so a drain never stalls ingest for long. */
export const DEFAULT_BATCH_MAX_RECORDS = 1_000;

const MaxBytes = z
  .number()
  .int()
  .min(64 * 1024);

const CommitSchema = z
  .strictObject({
    maxDelayMs: z
      .number()
      .int()
      .min(0)
      .max(100)
      .default(DEFAULT_COMMIT_DELAY_MS)
      .describe('Longest wait for more records before one shared commit (0: next event-loop turn).'),
    maxRecords: z.number().int().min(1).max(100_000).default(DEFAULT_COMMIT_MAX_RECORDS).describe('Most records in one shared commit.'),
    writerThread: z
      .boolean()
      .default(false)
      .describe('Commit ingested records on a worker thread (own SQLite connection, still synchronous=FULL), so fsyncs never block the event loop.'),
  })
  .describe('Group commit: concurrent ingests share one fsync.');

const FlushSchema = z
  .strictObject({
    paceFraction: z.number().gt(0).max(1).default(0.5).describe('Send at most this fraction of the measured upload bandwidth of the active uplink.'),
    canaryIntervalMs: z.number().int().min(1_000).default(30_000).describe('While the link is down, one canary batch per sink at most this often.'),
    meteredHighOnly: z.boolean().default(true).describe('On a metered active uplink, send only the high-priority class.'),
    liveFirst: z
      .boolean()
      .default(false)
      .describe(
        'Send records younger than liveWindowMs before the older backlog (order then holds per lane); enable only for receivers that accept out-of-order data.',
      ),
    liveWindowMs: z.number().int().min(1_000).default(60_000).describe('Age below which a record counts as live (liveFirst).'),
    pollMs: z.number().int().min(10).max(60_000).default(1_000).describe('Idle check interval of each sink forwarder (new records also wake it).'),
  })
  .describe('When and how fast the buffer is drained.');

const RetrySchema = z
  .strictObject({
    baseMs: z.number().int().min(10).default(1_000).describe('First retry delay (exponential, full jitter).'),
    capMs: z.number().int().min(100).default(60_000).describe("Largest retry delay of the backoff (a server's Retry-After is obeyed up to 1 h)."),
  })
  .describe('Retry backoff of failed sends.');

const TimeoutsSchema = z
  .strictObject({
    connectMs: z.number().int().min(100).default(10_000).describe('TCP/TLS connect timeout.'),
    headersMs: z.number().int().min(100).default(30_000).describe('Time to wait for the response headers.'),
    bodyMs: z.number().int().min(100).default(30_000).describe('Longest gap while reading the response body.'),
  })
  .describe('Upstream HTTP timeouts.');

const SelfTelemetrySchema = z
  .strictObject({
    sink: z
      .string()
      .optional()
      .describe("Sink (protocol prometheus-remote-write) that receives the agent's own probe results and state transitions; omit to disable."),
  })
  .describe("The agent's own telemetry, buffered like everything else.");

export const BufferConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Accept telemetry on /v1/ingest/{sink} and forward it when the link allows.'),
    maxBytes: MaxBytes.default(DEFAULT_MAX_BYTES).describe('Most payload bytes kept on disk (all sinks).'),
    maxRecords: z.number().int().min(1).optional().describe('Most records kept (optional second bound).'),
    policy: z
      .enum(['drop-oldest', 'reject-new'])
      .default('drop-oldest')
      .describe('When full: drop the oldest records of the lowest priority first, or answer 507 to new ones.'),
    maxRecordBytes: z.number().int().min(1024).default(DEFAULT_MAX_RECORD_BYTES).describe('Largest accepted body (413 above).'),
    maxInflightBytes: z
      .number()
      .int()
      .min(64 * 1024)
      .default(DEFAULT_MAX_INFLIGHT_BYTES)
      .describe(
        'Most bytes of ingest bodies held in memory at once (being received or waiting for their commit); further requests wait unread, so senders slow down instead of the agent growing. A single body larger than this is still accepted when it is alone.',
      ),
    socket: z.string().optional().describe('Unix socket path that also serves POST /v1/ingest/{sink} (file mode 0660, no token).'),
    commit: CommitSchema.prefault({}),
    flush: FlushSchema.prefault({}),
    retry: RetrySchema.prefault({}),
    timeouts: TimeoutsSchema.prefault({}),
    selfTelemetry: SelfTelemetrySchema.prefault({}),
  })
  .describe('Store-and-forward telemetry buffer (SQLite file buffer.db in state.dir).');

export const SinkSchema = z
  .strictObject({
    name: z
      .string()
      .regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'must be lowercase letters, digits, "-" or "_"')
      .describe('Name used in /v1/ingest/{name}.'),
    url: z.url().describe('Upstream URL records are sent to.'),
    protocol: z
      .enum(['prometheus-remote-write', 'otlp-http', 'loki', 'influx-line', 'ndjson', 'raw'])
      .default('raw')
      .describe('Decides batching, content type and which answers are retried or dead-lettered.'),
    headers: z
      .record(z.string(), z.string())
      .default({})
      .describe('Extra request headers; ${ENV_VAR} in a value is replaced from the environment. Never logged.'),
    headerFiles: z
      .record(z.string(), z.string())
      .default({})
      .describe('Headers whose value is read from a file (trimmed), e.g. Authorization: /run/secrets/token.'),
    priority: z.enum(['high', 'normal', 'low']).default('normal').describe('Priority class: degraded links send only high; when full, low is dropped first.'),
    ttlSeconds: z.number().int().min(0).default(0).describe('Drop records older than this (0: keep until sent or evicted).'),
    batchMaxBytes: z
      .number()
      .int()
      .min(1024)
      .default(1024 * 1024)
      .describe('Line protocols: concatenate records up to this many bytes per request.'),
    batchMaxRecords: z.number().int().min(1).default(DEFAULT_BATCH_MAX_RECORDS).describe('Line protocols: at most this many records per request.'),
    acceptWindowSeconds: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe(
        'Oldest data the upstream accepts, in seconds (0: no limit); status warns at 75 % of it. Default: 3600 for prometheus-remote-write (a Prometheus receiver refuses samples older than about 1 h behind its newest), none otherwise.',
      ),
    compression: z
      .enum(['auto', 'none', 'gzip', 'snappy'])
      .default('auto')
      .describe(
        'Compression of merged batches (auto: snappy for remote write, gzip for line protocols, none otherwise). Pre-encoded bodies are sent as they came.',
      ),
  })
  .describe('One upstream destination.');

export const SinksConfigSchema = z
  .array(SinkSchema)
  .default([])
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((s, i) => {
      if (seen.has(s.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `duplicate sink name "${s.name}"` });
      seen.add(s.name);
    });
  })
  .describe('Upstream destinations for buffered telemetry.');

export type BufferConfig = z.infer<typeof BufferConfigSchema>;
export type SinkConfig = z.infer<typeof SinkSchema>;
export type SinkProtocol = SinkConfig['protocol'];
export type PriorityClass = SinkConfig['priority'];

/** Stored priority numbers: lower is more important (0 = high). */
export const PRIORITY_RANK: Readonly<Record<PriorityClass, number>> = { high: 0, normal: 1, low: 2 };
/** Reverse of PRIORITY_RANK, for labels and output. */
export const PRIORITY_NAMES: readonly PriorityClass[] = ['high', 'normal', 'low'];
