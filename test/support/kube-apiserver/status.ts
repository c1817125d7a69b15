/** metav1.Status bodies, as the real API server answers errors (and some successes). */

/** A Status object with `code`, `reason` (e.g. Conflict, NotFound, TooManyRequests) and `message`. */
export function status(code: number, reason: string, message: string, details?: object): object {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: code < 300 ? 'Success' : 'Failure', message, reason, ...(details ? { details } : {}), code };
}
