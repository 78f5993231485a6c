/**
 * `dapr_error_code_total` (Configuration `metrics.recordErrorCodes: true`): one count per Dapr error
 * code the sidecar answers on its HTTP and gRPC APIs, labelled with the code and daprd's category for
 * it. Codes daprd does not catalogue are not counted, as in daprd.
 */
import type { ApiError } from '../errors/api-error.js';
import { errorCategory } from '../errors/error-categories.js';
import type { CounterMetric, MetricFactory } from './metric-factory.js';

/** The error-code counter of one sidecar. */
export class ErrorCodeMetrics {
  private readonly total: CounterMetric;

  constructor(
    factory: MetricFactory,
    private readonly appId: string,
  ) {
    this.total = factory.counter('dapr_error_code_total', 'Total number of times an error with a specific error code was encountered.', [
      'app_id',
      'category',
      'error_code',
    ]);
  }

  /** Counts an error the API answered with. */
  record(err: Pick<ApiError, 'code' | 'info'>): void {
    const category = errorCategory(err);
    if (category) this.total.inc({ app_id: this.appId, category, error_code: err.code });
  }
}
