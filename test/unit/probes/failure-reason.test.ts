/** failureReason labels transfer errors from codes and statuses: undici's own error classes, Node's, and linkward's. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { errors } from 'undici';
import { LwError } from '../../../agent/base/errors.ts';
import { failureReason } from '../../../probes/throughput-result.ts';

const nodeError = (code: string, message = 'x'): Error => Object.assign(new Error(message), { code });

test('timeouts of every kind (connect, headers, body, abort) are "timeout"', () => {
  for (const e of [
    new errors.ConnectTimeoutError(),
    new errors.HeadersTimeoutError(),
    new errors.BodyTimeoutError(),
    new errors.RequestAbortedError(),
    nodeError('ETIMEDOUT'),
    new DOMException('gone', 'TimeoutError'),
    new DOMException('gone', 'AbortError'),
  ]) {
    assert.equal(failureReason(e), 'timeout', `${(e as Error).name}`);
  }
});

test('refused, directly or inside a happy-eyeballs AggregateError or a cause', () => {
  assert.equal(failureReason(nodeError('ECONNREFUSED')), 'refused');
  assert.equal(failureReason(new AggregateError([nodeError('ECONNREFUSED'), nodeError('ECONNREFUSED')], '')), 'refused');
  assert.equal(failureReason(new Error('fetch failed', { cause: nodeError('ECONNREFUSED') })), 'refused');
});

test('HTTP status from LW_PROBE_HTTP_STATUS context: 4xx, 5xx, anything else is "error"', () => {
  const http = (status: number): LwError => new LwError('LW_PROBE_HTTP_STATUS', `HTTP ${status}`, { context: { status } });
  assert.equal(failureReason(http(503)), 'http_5xx');
  assert.equal(failureReason(http(404)), 'http_4xx');
  assert.equal(failureReason(http(302)), 'error');
});

test('the message is not read: a text that looks like another failure stays "error"', () => {
  assert.equal(failureReason(new Error('connect ECONNREFUSED 10.0.0.1:80 (timeout) HTTP 503')), 'error');
  assert.equal(failureReason(new LwError('LW_PROBE_BAD_ANSWER', 'HTTP 503 timeout')), 'error');
  assert.equal(failureReason('a string'), 'error');
  assert.equal(failureReason(null), 'error');
});
