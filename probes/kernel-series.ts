/** Download delivery timed by the kernel (pure): per connection, the moments when its in-order bytes are all it has received. */
import { deliveredSeries, type ByteSample } from './estimator.ts';

/** One TCP_INFO reading of a download connection (probes/tcp-info.ts), at probe time `tMs`. */
export interface KernelReading {
  tMs: number;
  /** In-order payload bytes received (tcpi_bytes_received). */
  bytesReceived: number;
  /** Data segments received, in order or not, retransmissions included (tcpi_data_segs_in). */
  dataSegsIn: number;
  /** Out-of-order packets received so far (tcpi_rcv_ooopack). */
  rcvOooPack: number;
  /** Receiver's MSS estimate (bytes); ≤ 0 when unknown. */
  rcvMss: number;
}

/** Largest payload of one TCP segment on any link linkward meets (jumbo frames), when the kernel gives no MSS. */
export const MAX_SEGMENT_BYTES = 9_000;
/** Grid (ms) of the summed series: fine enough for 100 ms bins, coarse enough to sum cheaply at every check. */
export const KERNEL_STEP_MS = 10;

/**
 * True when, at `cur`, the connection holds nothing out of order, judged against an earlier reading `ref`: no
 * out-of-order packet arrived since, and the in-order count grew by no more than the segments that arrived carry (no
 * hole was filled, which would merge data held from before). Then the in-order count equals the unique bytes that
 * have arrived: a lossy link's reassembly backlog (up to a round trip of data per connection in recovery, ≈ 40–110 ms
 * of line rate in the lab) does not delay the point, as it delays bytes read or tcpi_bytes_received alone.
 * `ref` is the previous reading (then new data must have arrived: a hole filled just before with nothing held above
 * it also qualifies) or the last in-sync reading (then nothing needs to have arrived: an idle connection stays in sync).
 */
export function inSync(ref: KernelReading, cur: KernelReading, sinceSync = false): boolean {
  const segs = cur.dataSegsIn - ref.dataSegsIn;
  const grew = cur.bytesReceived - ref.bytesReceived;
  const mss = cur.rcvMss > 0 ? cur.rcvMss : MAX_SEGMENT_BYTES;
  return cur.rcvOooPack === ref.rcvOooPack && grew >= 0 && grew <= segs * mss && (sinceSync || (segs > 0 && grew > 0));
}

/** Per-connection state: the last reading, the last in-sync one, and the in-sync points so far (0 bytes at time 0). */
export interface SyncTrack {
  last?: KernelReading;
  synced: KernelReading;
  points: ByteSample[];
}

export function newTrack(): SyncTrack {
  return { synced: { tMs: 0, bytesReceived: 0, dataSegsIn: 0, rcvOooPack: 0, rcvMss: 0 }, points: [{ tMs: 0, bytes: 0 }] };
}

/** Adds a reading to a connection's track (mutates it: the probe's hot path). */
export function observe(track: SyncTrack, r: KernelReading): void {
  if ((track.last && inSync(track.last, r)) || inSync(track.synced, r, true)) {
    track.points.push({ tMs: r.tMs, bytes: r.bytesReceived });
    track.synced = r;
  }
  track.last = r;
}

/**
 * Unique bytes delivered over all connections, on a KERNEL_STEP_MS grid, each connection interpolated between its
 * in-sync points; valid up to the earliest connection's last in-sync point. Empty until every connection has one.
 */
export function arrivedSeries(tracks: readonly SyncTrack[]): ByteSample[] {
  if (tracks.length === 0 || tracks.some((t) => t.points.length < 2)) return [];
  return deliveredSeries(
    tracks.map((t) => [t.points]),
    KERNEL_STEP_MS,
  );
}
