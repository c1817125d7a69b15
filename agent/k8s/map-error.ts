/** Maps a failed API call (HTTP status, timeout, network error) to an LwError with a K8sErrorCode. */
import { LwError } from '../base/errors.ts';
import { K8sErrorCode } from './errors.ts';

/** Maps any failure (client-node ApiException, lean HttpError, DOMException, network error) to an LwError with a K8sErrorCode (callers branch on it). */
export function mapError(e: unknown, what: string): LwError {
  // DOMException (timeouts) also has a numeric `code`; only ApiException carries an HTTP status (≥ 100).
  const rawCode = (e as { code?: unknown }).code;
  const status = typeof rawCode === 'number' && rawCode >= 100 && !(e instanceof DOMException) ? rawCode : undefined;
  const body = (e as { body?: unknown }).body;
  const detail = typeof body === 'string' ? body.slice(0, 300) : body && typeof body === 'object' ? String((body as { message?: unknown }).message ?? '') : '';
  const ctx = { what, status, detail };
  if (status === 409) return new LwError(K8sErrorCode.CONFLICT, `${what}: conflict (the object changed); re-reading and retrying`, { cause: e, context: ctx });
  if (status === 410)
    return new LwError(K8sErrorCode.GONE, `${what}: resourceVersion too old (410 Gone); reading the object again`, { cause: e, context: ctx });
  if (status === 404) return new LwError(K8sErrorCode.NOT_FOUND, `${what}: not found`, { cause: e, context: ctx });
  if (status === 429)
    return new LwError(K8sErrorCode.TOO_MANY_REQUESTS, `${what}: too many requests (${detail || 'PodDisruptionBudget or throttling'})`, {
      cause: e,
      context: ctx,
    });
  if (status === 401 || status === 403)
    return new LwError(K8sErrorCode.FORBIDDEN, `${what}: forbidden (${status}); apply deploy/fleet/base/rbac.yaml and check the admission policy`, {
      cause: e,
      context: ctx,
    });
  if (status !== undefined && status >= 400 && status < 500)
    return new LwError(K8sErrorCode.REJECTED, `${what}: rejected with ${status} ${detail}`, { cause: e, context: ctx });
  if (status !== undefined)
    return new LwError(K8sErrorCode.UNAVAILABLE, `${what}: API server answered ${status}; will retry with backoff`, { cause: e, context: ctx });
  if (timedOut(e)) return new LwError(K8sErrorCode.TIMEOUT, `${what}: API server did not answer in time; will retry with backoff`, { cause: e, context: ctx });
  const cause = (e as { cause?: { code?: unknown } }).cause;
  return new LwError(K8sErrorCode.UNAVAILABLE, `${what}: API server unreachable (${String(cause?.code ?? (e as Error).message)}); will retry with backoff`, {
    cause: e,
    context: ctx,
  });
}

/** Names and codes that mean the request ran out of time (AbortSignal.timeout, undici's own timeouts). */
const TIMEOUT_MARKS: ReadonlySet<string> = new Set([
  'TimeoutError',
  'AbortError',
  'ABORT_ERR',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
]);

/** True when `e`, or an error it wraps (`cause`, a few levels), is named or coded as a timeout; messages are not read. */
function timedOut(e: unknown, depth = 0): boolean {
  if (typeof e !== 'object' || e === null || depth > 3) return false;
  const o = e as { name?: unknown; code?: unknown; cause?: unknown };
  return TIMEOUT_MARKS.has(String(o.name)) || TIMEOUT_MARKS.has(String(o.code)) || timedOut(o.cause, depth + 1);
}
