/** systemd readiness protocol: READY=1, WATCHDOG=1 at half of WATCHDOG_USEC, STOPPING=1 (sd_notify over $NOTIFY_SOCKET). */
import { run } from '../base/exec.ts';
import type { Logger } from '../base/log.ts';
import { type NativeAddon, nativeAddon } from '../base/native-addon.ts';

type NotifyFn = NonNullable<NativeAddon['notify']>;

/** Sends sd_notify messages; a no-op when $NOTIFY_SOCKET is unset (not under systemd). */
export class SystemdNotifier {
  readonly #socket: string | undefined;
  readonly #log: Logger;
  readonly #addon: NotifyFn | null;
  #watchdog: NodeJS.Timeout | null = null;

  constructor(log: Logger, env: NodeJS.ProcessEnv = process.env) {
    this.#socket = env.NOTIFY_SOCKET || undefined;
    this.#log = log.child({ component: 'systemd' });
    this.#addon = this.#socket ? (nativeAddon()?.notify ?? null) : null;
    if (this.#socket && !this.#addon) {
      this.#log.warn('sd_notify addon not built; using systemd-notify (needs NotifyAccess=all in the unit)');
    }
  }

  get enabled(): boolean {
    return this.#socket !== undefined;
  }

  /** Sends one message (e.g. `READY=1\nSTATUS=serving`); failures are logged, never thrown. */
  async send(message: string): Promise<void> {
    const socket = this.#socket;
    if (!socket) return;
    if (this.#addon) {
      const rc = this.#addon(socket, message);
      if (rc !== 0) this.#log.warn({ errno: -rc, message }, 'sd_notify failed');
      return;
    }
    try {
      await run('systemd-notify', [`--pid=${process.pid}`, ...message.split('\n').filter(Boolean)], { timeoutMs: 2_000 });
    } catch (e) {
      this.#log.warn({ err: e, message }, 'systemd-notify failed');
    }
  }

  /** READY=1 plus a status line. */
  ready(status: string): Promise<void> {
    return this.send(`READY=1\nSTATUS=${status}\nMAINPID=${process.pid}`);
  }

  stopping(): Promise<void> {
    this.stopWatchdog();
    return this.send('STOPPING=1\nSTATUS=stopping');
  }

  /**
   * Starts WATCHDOG=1 pings at half of $WATCHDOG_USEC (systemd's recommendation). `healthy()` gates
   * each ping, so a stuck event loop or a failed self-check lets systemd restart the service.
   */
  startWatchdog(healthy: () => boolean, env: NodeJS.ProcessEnv = process.env): number | null {
    const usec = Number(env.WATCHDOG_USEC ?? NaN);
    const pid = env.WATCHDOG_PID ? Number(env.WATCHDOG_PID) : process.pid;
    if (!this.enabled || !Number.isFinite(usec) || usec <= 0 || pid !== process.pid) return null;
    const intervalMs = Math.max(1, Math.floor(usec / 1000 / 2));
    this.#watchdog = setInterval(() => {
      if (healthy()) void this.send('WATCHDOG=1');
    }, intervalMs);
    this.#watchdog.unref();
    return intervalMs;
  }

  stopWatchdog(): void {
    if (this.#watchdog) clearInterval(this.#watchdog);
    this.#watchdog = null;
  }
}
