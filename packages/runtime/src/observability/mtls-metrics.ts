/**
 * mTLS metrics with daprd's names and labels (`pkg/diagnostics`, `runtime/mtls/*`):
 * `dapr_runtime_mtls_init_total` (app_id), `dapr_runtime_mtls_init_fail_total` (app_id, reason),
 * `dapr_runtime_mtls_workload_cert_rotated_total` (app_id) and
 * `dapr_runtime_mtls_workload_cert_rotated_fail_total` (app_id, reason). daprd counts fetching its
 * certificate from Sentry; Weft counts loading the user's certificates at start-up and re-reading them
 * when the files change.
 */
import { Counter } from './prom-client.js';
import type { Registry } from './prom-client.js';

/** The mTLS recorders of one sidecar. */
export class MtlsMetrics {
  private readonly init: Counter;
  private readonly initFail: Counter;
  private readonly rotated: Counter;
  private readonly rotatedFail: Counter;
  private readonly base: { app_id: string };

  constructor(registry: Registry, appId: string) {
    this.base = { app_id: appId };
    const registers = [registry];
    this.init = new Counter({ name: 'dapr_runtime_mtls_init_total', help: 'The number of successful mTLS authenticator initialization.', labelNames: ['app_id'], registers });
    this.initFail = new Counter({ name: 'dapr_runtime_mtls_init_fail_total', help: 'The number of mTLS authenticator init failures.', labelNames: ['app_id', 'reason'], registers });
    this.rotated = new Counter({
      name: 'dapr_runtime_mtls_workload_cert_rotated_total',
      help: 'The number of the successful workload certificate rotations.',
      labelNames: ['app_id'],
      registers,
    });
    this.rotatedFail = new Counter({
      name: 'dapr_runtime_mtls_workload_cert_rotated_fail_total',
      help: 'The number of the failed workload certificate rotations.',
      labelNames: ['app_id', 'reason'],
      registers,
    });
  }

  /** The certificates were loaded at start-up. */
  initCompleted(): void {
    this.init.inc(this.base);
  }

  /** The certificates could not be used at start-up. */
  initFailed(reason: string): void {
    this.initFail.inc({ ...this.base, reason });
  }

  /** A changed workload certificate (or key) is in use for new connections. */
  certRotated(): void {
    this.rotated.inc(this.base);
  }

  /** Changed files could not be used; the previous certificate stays. */
  certRotationFailed(reason: string): void {
    this.rotatedFail.inc({ ...this.base, reason });
  }
}
