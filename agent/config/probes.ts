/** Config schema of `probes` (owned by the probes package): light probes, throughput, budget, retention. */
import { z } from 'zod';
import { validate as validCron } from 'node-cron';
import { LinkHealthConfigSchema } from './link.ts';

/** Light probe interval: 5 s detects a dead link within a few rounds at ≈130 B per round. */
export const DEFAULT_INTERVAL_MS = 5_000;
/** Longest interval the adaptive back-off stretches to while every round succeeds (keeps idle cost ≲1 MB/day). */
export const DEFAULT_MAX_INTERVAL_MS = 20_000;
/** Default throughput schedule: hourly (a per-node random offset is added so a fleet does not test at once). */
export const DEFAULT_THROUGHPUT_CRON = '0 * * * *';
/** Parallel HTTP streams: 4 fills a BDP on lossy links the way iperf3 -P 4 does. */
export const DEFAULT_STREAMS = 4;
/**
 * Loss window: 20 packets could not tell 10 % loss from chance (4 lost needed at the 0.1 % evidence level, 2 expected),
 * so 10 % took a median 4.7 min to detect from the settled schedule; 60 detects it in 2.3 min and every 5 % run within
 * 30 min, while 1 % random loss still never enters degraded (scripts/bench/loss-sensitivity.ts, link-random-loss.ts).
 */
export const DEFAULT_WINDOW_PACKETS = 60;
/** Byte cap per direction per throughput probe: the goal is ≤ 8 MB. */
export const DEFAULT_THROUGHPUT_MAX_BYTES = 8_000_000;

const TargetSchema = z
  .string()
  .min(1)
  .regex(
    /^(([a-z]+:\/\/\S+)|(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):\d{1,5})$/,
    'must be HOST:PORT or a URL (tcp://, udp://, icmp://, linkward://, http://, https://)',
  );

const ThroughputSchema = z
  .strictObject({
    enabled: z
      .boolean()
      .default(true)
      .describe(
        'Run throughput probes (needs `url`): scheduled, on light-probe changes, re-tests and requests from the CLI/API. Off: none at all, only light and passive probes.',
      ),
    url: z
      .url()
      .optional()
      .describe('Base URL of the throughput server (a linkward probe-server, LibreSpeed backend or Cloudflare-style host). Omit: no throughput probes.'),
    confirmUrl: z
      .url()
      .optional()
      .describe(
        'A second throughput server (same preset) for confirmations: a reading bad enough to worsen a verdict is tested again against it, and the better of the two counts, so one slow or half-dead server cannot make an uplink look slow. Omit: confirmations use `url` again (then a server that serves slowly reads as a slow link).',
      ),
    preset: z
      .enum(['linkward', 'librespeed', 'cloudflare'])
      .default('linkward')
      .describe(
        'Endpoint layout of `url`: linkward (/linkward/down, /linkward/up), librespeed (garbage.php?ckSize=, empty.php), cloudflare (__down?bytes=, __up).',
      ),
    cron: z
      .string()
      .refine((c) => validCron(c), 'not a valid cron expression (5 or 6 fields, e.g. "0 * * * *")')
      .default(DEFAULT_THROUGHPUT_CRON)
      .describe('node-cron expression for scheduled throughput probes (a random per-node offset of up to `spreadMs` is added).'),
    spreadMs: z
      .number()
      .int()
      .min(0)
      .max(3_600_000)
      .default(600_000)
      .describe('Maximum random per-node delay after each cron tick, so a fleet does not test at the same second.'),
    streams: z.number().int().min(1).max(16).default(DEFAULT_STREAMS).describe('Parallel HTTP streams per direction.'),
    maxBytes: z
      .number()
      .int()
      .min(100_000)
      .default(DEFAULT_THROUGHPUT_MAX_BYTES)
      .describe(
        'Hard byte cap per direction per probe, in estimated wire bytes (headers, TCP/IP overhead and bytes in flight at a stop included); the daily budget may lower it.',
      ),
    maxDurationMs: z
      .number()
      .int()
      .min(500)
      .max(60_000)
      .default(3_000)
      .describe('Time cap per direction, a last resort: the probe also stops once it has used ≈ 2.5 s of its own rate estimate (probes/probe-bytes.ts).'),
    minMeasureMs: z
      .number()
      .int()
      .min(200)
      .max(30_000)
      .default(1_000)
      .describe('Shortest measured window (after warm-up) before the estimate may be called stable.'),
    stableTolerance: z
      .number()
      .min(0.005)
      .max(0.5)
      .default(0.05)
      .describe('Stop early when the rate is known within this fraction (twice its relative standard error).'),
    download: z.boolean().default(true).describe('Measure download.'),
    upload: z.boolean().default(true).describe('Measure upload.'),
    skipWhenObservedDownMbps: z
      .number()
      .positive()
      .optional()
      .describe(
        'Skip the scheduled probe when passive counters (uplinks[].interface) saw at least this download rate since the last light round; default: probes.health download degraded exit threshold.',
      ),
    skipWhenObservedUpMbps: z.number().positive().optional().describe('Same for upload; default: probes.health upload degraded exit threshold.'),
    onDemandMinGapMs: z.number().int().min(60_000).default(900_000).describe('Minimum gap between throughput probes triggered by light-probe changes.'),
    recheckMinGapMs: z
      .number()
      .int()
      .min(10_000)
      .max(3_600_000)
      .default(30_000)
      .describe(
        'When only a throughput figure holds an uplink degraded or down and light probes saw it recover, re-test after at least this long since the last test (a slow link that stays slow is re-tested at 3/4 of probes.health.maxAge.lowThroughputS instead). 30 s: a recovered link is released within about a minute plus the exit dwell.',
      ),
  })
  .describe('Throughput (download/upload) probes over HTTP.');

export const ProbesConfigSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Run link probes. Off: link state stays unknown and no node actions are taken.'),
    targets: z
      .array(TargetSchema)
      .default([])
      .describe(
        'Default light-probe targets for uplinks without their own: HOST:PORT (TCP connect), tcp://, udp:// (linkward UDP echo), linkward://HOST:PORT (probe server: UDP echo, TCP connect only when UDP gets no answer), icmp://HOST (system ping), http(s):// URL (TCP connect to its host). Empty: nothing is probed and status says so.',
      ),
    intervalMs: z
      .number()
      .int()
      .min(500)
      .max(600_000)
      .default(DEFAULT_INTERVAL_MS)
      .describe('Light probe interval while anything is uncertain; ±10 % jitter is added.'),
    maxIntervalMs: z
      .number()
      .int()
      .min(500)
      .max(600_000)
      .default(DEFAULT_MAX_INTERVAL_MS)
      .describe('Longest interval the adaptive back-off reaches after a minute of clean rounds.'),
    timeoutMs: z.number().int().min(100).max(30_000).default(2_000).describe('Per-probe timeout; no answer within it counts as lost.'),
    echoPort: z
      .number()
      .int()
      .min(1)
      .max(65535)
      .optional()
      .describe('Also send a UDP echo to this port on every TCP/HTTP target host (a linkward probe-server answers UDP on its HTTP port number).'),
    quorum: z
      .union([z.literal('majority'), z.literal('half'), z.literal('any'), z.literal('all'), z.number().int().min(1)])
      .default('majority')
      .describe('Targets that must answer for `reachable`: majority (> half), half (≥ half), any, all, or a count.'),
    windowPackets: z
      .number()
      .int()
      .min(4)
      .max(1000)
      .default(DEFAULT_WINDOW_PACKETS)
      .describe(
        'Sliding window (probe packets per uplink) for loss, jitter and p95 RTT. 60 resolves loss in 1.7 % steps: with the default targets and intervals, from the settled schedule 10 % random loss is detected in a median 2.3 min (p90 5 min), 20 % in 1.4 min, 5 % in 6.5 min, and 1–2 % (ordinary on cellular) never (npm run bench:loss-sensitivity, docs/OPERATIONS.md).',
      ),
    token: z.string().min(16).optional().describe('Token sent to linkward probe servers (HTTP Bearer and UDP echo).'),
    retentionDays: z.number().int().min(1).max(365).default(7).describe('Days stored probe results are kept in the state database.'),
    throughput: ThroughputSchema.prefault({}).describe('Throughput (download/upload) probes over HTTP.'),
    health: LinkHealthConfigSchema.prefault({}).describe(
      'Link-health thresholds, dwell times and damping used by the link-state machine (agent/config/link.ts).',
    ),
  })
  .describe('Link measurements: latency, jitter, loss, throughput.');

export type ProbesConfig = z.infer<typeof ProbesConfigSchema>;
export type ThroughputConfig = z.infer<typeof ThroughputSchema>;
export type QuorumRule = ProbesConfig['quorum'];
