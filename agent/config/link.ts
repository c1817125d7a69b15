/** Config schema of `probes.health`: thresholds, dwell times, flap damping and staleness for the link-state machine. */
import { z } from 'zod';
import { THRESHOLD_METRICS, type LinkHealthConfig, type ThresholdMetric } from '../core/link-health.ts';

export { THRESHOLD_METRICS, type LinkHealthConfig, type MetricDirection, type ThresholdMetric } from '../core/link-health.ts';

function level(what: string, enter: number, exit: number, why: string) {
  return z
    .strictObject({
      enter: z.number().nonnegative().default(enter).describe(`Value that enters ${what} (crossing it starts the enter dwell).`),
      exit: z
        .number()
        .nonnegative()
        .default(exit)
        .describe(`Value that must be passed to leave ${what}; stricter than enter so the state does not flap around one value.`),
    })
    .describe(why);
}

function metric(name: string, unit: string, degraded: [number, number, string], down: [number, number, string]) {
  return z
    .strictObject({
      degraded: level('degraded', degraded[0], degraded[1], degraded[2]).prefault({}),
      down: level('down', down[0], down[1], down[2]).nullable().prefault({}).describe(`${down[2]} null: this metric alone never makes the link down.`),
    })
    .describe(`${name} thresholds (${unit}).`);
}

const ThresholdsSchema = z
  .strictObject({
    downloadMbps: metric(
      'Download throughput',
      'Mbit/s, lower is worse',
      [5, 6, 'Degraded below 5 Mbit/s: pulling images and streaming telemetry stalls; leave above 6 (20 % margin).'],
      [0.5, 1, 'Down below 0.5 Mbit/s: effectively unusable for workloads; leave above 1 Mbit/s.'],
    ).prefault({}),
    uploadMbps: metric(
      'Upload throughput',
      'Mbit/s, lower is worse',
      [1, 1.5, 'Degraded below 1 Mbit/s: telemetry and logs back up; leave above 1.5 Mbit/s.'],
      [0.1, 0.2, 'Down below 0.1 Mbit/s: uploads effectively stop; leave above 0.2 Mbit/s.'],
    ).prefault({}),
    rttP95Ms: metric(
      'RTT p95',
      'ms, higher is worse',
      [250, 200, 'Degraded above 250 ms: interactive and API calls feel slow (satellite GEO sits near 600 ms and is degraded by design); leave below 200 ms.'],
      [2000, 1500, 'Down above 2000 ms: Kubernetes API calls and TLS handshakes start timing out; leave below 1500 ms.'],
    ).prefault({}),
    lossPercent: metric(
      'Packet loss',
      '%, higher is worse',
      [3, 1, 'Degraded above 3 %: TCP throughput collapses well before 5 % loss; leave below 1 %.'],
      [25, 15, 'Down above 25 %: most connections stall; leave below 15 %.'],
    ).prefault({}),
    jitterMs: metric(
      'Jitter',
      'ms, higher is worse',
      [50, 30, 'Degraded above 50 ms: voice/video and control loops suffer; leave below 30 ms.'],
      [1000, 600, 'Down above 1000 ms: round trips vary by seconds, timeouts fire spuriously; leave below 600 ms.'],
    ).prefault({}),
  })
  .describe('Per-metric thresholds: enter and exit values for the degraded and down levels.');

const DwellSchema = z
  .strictObject({
    enterS: z
      .number()
      .nonnegative()
      .default(15)
      .describe(
        'Seconds a worse verdict must persist before the state gets worse: 15 s filters one bad probe round yet detects a step change within ~15 s of the first bad sample.',
      ),
    exitS: z
      .number()
      .nonnegative()
      .default(60)
      .describe(
        'Seconds a better verdict must persist before the state improves: 60 s (longer than enter) so a link that comes back briefly is not declared healthy.',
      ),
    hardDownS: z
      .number()
      .nonnegative()
      .default(0)
      .describe(
        'Dwell for hard failures (carrier lost, targets unreachable by quorum): 0 s, because a probe round already asked several targets and acting fast matters most here.',
      ),
  })
  .describe('Dwell times: how long a new verdict must hold before the state changes.');

/**
 * Damping hold cap after the last flap, seconds. 420 s + exit dwell 60 s + failback hold 120 s = 10 min: the goal for
 * "traffic is back on the preferred uplink after flapping stops" (issue 10). Before, the cap was the penalty alone:
 * log2(6000/750) half-lives = 30 min.
 */
export const DEFAULT_DAMPING_MAX_HOLD_S = 420;

const DampingSchema = z
  .strictObject({
    enabled: z.boolean().default(true).describe('Apply flap damping (RFC 2439 style) on top of the dwell times.'),
    penaltyPerFlap: z
      .number()
      .positive()
      .default(1000)
      .describe(
        'Penalty added each time the measurements turn bad while the uplink is healthy (a recovery, an outage deepening from degraded to down, or wobbling values while a recovery dwells add none, so one incident is never damped).',
      ),
    halfLifeS: z
      .number()
      .positive()
      .default(600)
      .describe(
        'Half-life of the penalty in seconds: 10 min, so flaps up to ~7 min apart add up to suppression (the third within a few minutes suppresses) and a flapping link stays held while it flaps.',
      ),
    suppressAbove: z
      .number()
      .positive()
      .default(2000)
      .describe(
        'Penalty above which the uplink is held in the worse state: reached at the third flap within a few minutes, never by one or two separate incidents.',
      ),
    reuseBelow: z.number().positive().default(750).describe('Penalty below which normal hysteresis resumes (BGP default 750).'),
    maxPenalty: z
      .number()
      .positive()
      .default(6000)
      .describe('Cap on the penalty (how much flapping history is remembered); the hold after flapping stops is bounded by maxHoldS, not by this.'),
    maxHoldS: z
      .number()
      .positive()
      .default(DEFAULT_DAMPING_MAX_HOLD_S)
      .describe(
        'Longest hold after the last flap (RFC 2439 max-suppress-time), whatever the penalty: 420 s = 7 min, so a link that stopped flapping is published healthy again within 8 min (plus the 60 s exit dwell) and traffic fails back within 10 min (plus the 2 min failback hold). A link that keeps flapping at least every 7 min stays held.',
      ),
  })
  .describe('Flap damping: an exponentially decaying penalty per flap; while it is high the uplink stays in the worse state.');

const MaxAgeSchema = z
  .strictObject({
    lightS: z
      .number()
      .positive()
      .default(120)
      .describe('Seconds after which latency, loss, reachability and carrier values count as stale: 120 s is several missed light probe rounds.'),
    throughputS: z
      .number()
      .positive()
      .default(10_800)
      .describe(
        'Seconds after which download/upload values at a healthy level count as stale: 3 h, because throughput probes are rare to respect the data budget (light probes still detect failures meanwhile).',
      ),
    lowThroughputS: z
      .number()
      .positive()
      .default(600)
      .describe(
        'Seconds after which a download/upload value below its degraded exit threshold expires: 10 min. Such a figure holds the link degraded or down, so it is re-measured before then (probes.throughput.recheck); if it cannot be (budget spent, server down, throughput off) it stops counting and the verdict rests on what is fresh.',
      ),
  })
  .superRefine((m, ctx) => {
    if (m.lowThroughputS > m.throughputS)
      ctx.addIssue({
        code: 'custom',
        path: ['lowThroughputS'],
        message: `lowThroughputS (${m.lowThroughputS}) must not exceed throughputS (${m.throughputS}): a figure that holds the link worse must not outlive a healthy one`,
      });
  })
  .describe('Measurement max-age: stale metrics are ignored; with no fresh metric at all the uplink is unknown.');

export const LinkHealthConfigSchema = z
  .strictObject({
    thresholds: ThresholdsSchema.prefault({}),
    dwell: DwellSchema.prefault({}),
    damping: DampingSchema.prefault({}),
    maxAge: MaxAgeSchema.prefault({}),
  })
  .superRefine((cfg, ctx) => {
    for (const [key, meta] of Object.entries(THRESHOLD_METRICS) as [ThresholdMetric, (typeof THRESHOLD_METRICS)[ThresholdMetric]][]) {
      const t = cfg.thresholds[key];
      const worse = meta.dir === 'min' ? 'below' : 'above';
      const better = meta.dir === 'min' ? 'above' : 'below';
      for (const lvl of ['degraded', 'down'] as const) {
        const l = t[lvl];
        if (!l) continue;
        const stricter = meta.dir === 'min' ? l.exit > l.enter : l.exit < l.enter;
        if (!stricter) {
          ctx.addIssue({
            code: 'custom',
            path: ['thresholds', key, lvl, 'exit'],
            message: `exit (${l.exit}) must be stricter than enter (${l.enter}): for ${key} the state is entered ${worse} enter and left only ${better} exit`,
          });
        }
      }
      if (t.down) {
        const deeper = meta.dir === 'min' ? t.down.enter < t.degraded.enter : t.down.enter > t.degraded.enter;
        if (!deeper)
          ctx.addIssue({
            code: 'custom',
            path: ['thresholds', key, 'down', 'enter'],
            message: `down.enter (${t.down.enter}) must be ${worse} degraded.enter (${t.degraded.enter})`,
          });
      }
    }
    const d = cfg.damping;
    if (!(d.reuseBelow < d.suppressAbove))
      ctx.addIssue({
        code: 'custom',
        path: ['damping', 'reuseBelow'],
        message: `reuseBelow (${d.reuseBelow}) must be less than suppressAbove (${d.suppressAbove})`,
      });
    if (!(d.suppressAbove < d.maxPenalty))
      ctx.addIssue({
        code: 'custom',
        path: ['damping', 'maxPenalty'],
        message: `maxPenalty (${d.maxPenalty}) must be greater than suppressAbove (${d.suppressAbove}), or the uplink could never be suppressed`,
      });
  })
  .describe('Link health policy: when an uplink is healthy, degraded or down.');

/** Compile-time proof that the schema's output is exactly the plain policy type the pure rules read. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const SCHEMA_MATCHES_POLICY: Same<z.infer<typeof LinkHealthConfigSchema>, LinkHealthConfig> = true;
void SCHEMA_MATCHES_POLICY;
export type LinkHealthConfigInput = z.input<typeof LinkHealthConfigSchema>;

/** The default policy (every default applied). */
export function defaultLinkHealthConfig(): LinkHealthConfig {
  return LinkHealthConfigSchema.parse({});
}
