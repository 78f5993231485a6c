/**
 * Readiness as Dapr defines it: `healthz/outbound` once components are loaded and the API is up (the
 * SDK's "wait for sidecar"), `healthz` once the app channel is ready and every subscription of the app
 * is established at its broker too (daprd starts the app's subscriptions before it reports ready), so
 * an event published right after readiness reaches the app.
 */

/** The sidecar's readiness flags. */
export class HealthState {
  componentsReady = false;
  apiReady = false;
  /** True when there is no app channel, or the app port answered. */
  appReady = false;
  /** False while app health checks report the app unhealthy (or before their first success). */
  appHealthy = true;
  /** False from app discovery until every subscription of the app is established. */
  subscriptionsReady = true;
  private markReported!: () => void;
  /**
   * Resolves the first time a caller learns that the sidecar is ready for outbound calls (an
   * {@link outboundReady} or {@link ready} check that answers true, as `healthz` and
   * `healthz/outbound` make), so work that may follow readiness starts once it has been reported.
   */
  readonly reported = new Promise<void>((resolve) => (this.markReported = resolve));

  /** Whether calls may be sent to the app now. */
  appAvailable(): boolean {
    return this.appReady && this.appHealthy;
  }

  /** Ready for outbound calls from the app. */
  outboundReady(): boolean {
    const ready = this.componentsReady && this.apiReady;
    if (ready) this.markReported();
    return ready;
  }

  /** Fully ready, app channel and subscriptions included. */
  ready(): boolean {
    return this.outboundReady() && this.appReady && this.subscriptionsReady;
  }
}
