/** Error codes of the probes package (branch on these, never on messages). */
import type { LwCode } from '../agent/base/errors.ts';

export const ProbeErrorCode = {
  /** A target string could not be parsed. */
  TARGET_INVALID: 'LW_PROBE_TARGET_INVALID',
  /** The uplink has no usable source address (interface missing or without IPv4). */
  NO_SOURCE: 'LW_PROBE_NO_SOURCE',
  /** A throughput server answered with a non-2xx status. */
  HTTP_STATUS: 'LW_PROBE_HTTP_STATUS',
  /** A throughput server answered 2xx with something the preset cannot read (an upload answer without arrival ticks). */
  BAD_ANSWER: 'LW_PROBE_BAD_ANSWER',
  /** No throughput URL is configured or given. */
  NO_URL: 'LW_PROBE_NO_URL',
  /** The uplink named on the command line is not configured. */
  UNKNOWN_UPLINK: 'LW_PROBE_UNKNOWN_UPLINK',
  /** The probe server cannot listen as asked (insecure or failed). */
  SERVER_INSECURE: 'LW_PROBE_SERVER_INSECURE',
  SERVER_LISTEN_FAILED: 'LW_PROBE_SERVER_LISTEN_FAILED',
  /** The throughput target answers every connect with a TCP reset: nothing listens there (a target problem, not the link). */
  TARGET_REFUSED: 'LW_PROBE_TARGET_REFUSED',
  /** A throughput probe was asked for while probes.throughput.enabled is false. */
  THROUGHPUT_DISABLED: 'LW_PROBE_THROUGHPUT_DISABLED',
} as const satisfies Record<string, LwCode>;
