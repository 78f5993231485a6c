/**
 * App health checks (`--enable-app-health-check`), as Dapr runs them: a probe every interval with a
 * timeout; the app counts as unhealthy after `threshold` consecutive failures and healthy again after
 * one success. Work toward the app is enabled only after the first successful probe.
 */

/** Probe settings. */
export interface AppHealthSettings {
  /** HTTP path probed (HTTP apps only). @default '/healthz' */
  path: string;
  /** @default 5000 */
  intervalMs: number;
  /** @default 500 */
  timeoutMs: number;
  /** Consecutive failures before the app is unhealthy. @default 3 */
  threshold: number;
}

/** Dapr's defaults. */
export const DEFAULT_APP_HEALTH: AppHealthSettings = { path: '/healthz', intervalMs: 5000, timeoutMs: 500, threshold: 3 };

/** Runs the probe loop and reports transitions. */
export class AppHealthMonitor {
  private timer: NodeJS.Timeout | undefined;
  private failures = 0;
  private healthy = false;
  private stopped = false;

  constructor(
    private readonly probe: (timeoutMs: number) => Promise<boolean>,
    private readonly settings: AppHealthSettings,
    private readonly onChange: (healthy: boolean) => void,
  ) {}

  /** Starts probing now, then every interval. */
  start(): void {
    void this.tick();
  }

  /** Stops probing. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const ok = await this.probe(this.settings.timeoutMs).catch(() => false);
    if (this.stopped) return;
    if (ok) {
      this.failures = 0;
      if (!this.healthy) {
        this.healthy = true;
        this.onChange(true);
      }
    } else {
      this.failures += 1;
      if (this.healthy && this.failures >= this.settings.threshold) {
        this.healthy = false;
        this.onChange(false);
      }
    }
    this.timer = setTimeout(() => void this.tick(), this.settings.intervalMs);
    this.timer.unref();
  }
}
