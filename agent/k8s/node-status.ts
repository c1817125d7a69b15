/** What the node component shows in status() and GET /v1/node: state and message in one cell, last success and error, their wording. */
import type { ComponentStatus } from '../runtime/component.ts';
import { codeOf, messageOf } from '../base/errors.ts';
import { K8sErrorCode } from './errors.ts';
import { describePause } from './overrides.ts';
import type { ReconcileResult } from './reconciler.ts';

/** The last failure of a pass, the watch or the client's creation. */
export interface LastError {
  code: string;
  message: string;
  atMs: number;
}

/** One cell, so state and message always change together; the pass loop and the component's lifecycle both write it. */
export class NodeStatus {
  #shown: { state: ComponentStatus['state']; message: string } = { state: 'starting', message: 'starting' };
  #lastError: LastError | null = null;
  #lastSuccessMs: number | null = null;

  get state(): ComponentStatus['state'] {
    return this.#shown.state;
  }

  get message(): string {
    return this.#shown.message;
  }

  get lastError(): LastError | null {
    return this.#lastError;
  }

  /** When a pass last succeeded (null: none yet). */
  get lastSuccessMs(): number | null {
    return this.#lastSuccessMs;
  }

  show(state: ComponentStatus['state'], message: string): void {
    this.#shown = { state, message };
  }

  /** Records a successful pass at `atMs`. */
  succeeded(atMs: number): void {
    this.#lastSuccessMs = atMs;
  }

  /** Records `e` as the last error, seen at `atMs`. */
  failed(e: unknown, atMs: number): void {
    this.#lastError = { code: codeOf(e), message: messageOf(e), atMs };
  }
}

/** Milliseconds as seconds with one decimal, for messages. */
function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}

/** After a successful pass: the link state, or why decorations are held back (admin pause, fleet cap). */
export function passedMessage(r: ReconcileResult, dryRun: boolean): string {
  return r.desired.paused
    ? `link ${r.desired.state}; ${describePause(r.desired.paused)}`
    : r.desired.capped.length
      ? `${r.fleetReason ?? 'fleet cap reached'}; holding back ${r.desired.capped.join(', ')}`
      : `link ${r.desired.state}${dryRun ? ' (dry run: nothing written)' : ''}`;
}

/** After a failed pass: the error, a hint when the Node is not found, and when the retry (number `failures`) comes. */
export function failedMessage(e: unknown, nodeName: string, failures: number, delayMs: number): string {
  const code = codeOf(e);
  const hint = code === K8sErrorCode.NOT_FOUND ? ` (is the node name right? set node.name or $NODE_NAME; using "${nodeName}")` : '';
  return `Kubernetes API failing (${code}): ${messageOf(e)}${hint}; desired state kept, retry ${failures} in ${seconds(delayMs)} s`;
}

/** The watch failed before the first pass read the Node. */
export function watchFailedMessage(e: unknown, retryInMs: number): string {
  return `Kubernetes API failing (${codeOf(e)}): ${messageOf(e)}; retry in ${seconds(retryInMs)} s`;
}
