/**
 * Bulk pub/sub metrics with daprd's names and labels (`pkg/diagnostics/component_monitoring.go`):
 * one count and latency per bulk delivery to the app (`dapr_component_pubsub_ingress_bulk_*`) with
 * its entries counted by the app's per-entry status, and one count and latency per bulk publish
 * (`dapr_component_pubsub_egress_bulk_*`) with the entries the broker accepted.
 *
 * daprd records the bulk-delivery count and latency without a `process_status` (the label is empty)
 * and the per-entry count with the app's status as sent (`SUCCESS`, `RETRY`, `DROP`).
 * `dapr_component_pubsub_egress_bulk_event_count` is recorded by daprd but its view is never
 * registered there; Weft exports it under the name daprd gives it.
 */
import type { CounterMetric, HistogramMetric, MetricFactory } from './metric-factory.js';

/** The app's status of one bulk entry, as daprd labels it. */
export type BulkEntryStatus = 'SUCCESS' | 'RETRY' | 'DROP';

/** The bulk pub/sub recorders of one sidecar. */
export class PubsubBulkMetrics {
  private readonly ingressCount: CounterMetric;
  private readonly ingressEventCount: CounterMetric;
  private readonly ingressLatency: HistogramMetric;
  private readonly egressCount: CounterMetric;
  private readonly egressEventCount: CounterMetric;
  private readonly egressLatency: HistogramMetric;

  constructor(
    factory: MetricFactory,
    private readonly appId: string,
    private readonly namespace: string,
  ) {
    const ingress = ['app_id', 'component', 'namespace', 'process_status', 'topic'];
    const egress = ['app_id', 'component', 'namespace', 'success', 'topic'];
    this.ingressCount = factory.counter(
      'dapr_component_pubsub_ingress_bulk_count',
      'The number of incoming bulk subscribe calls arriving from the bulk pub/sub component.',
      ingress,
    );
    this.ingressEventCount = factory.counter(
      'dapr_component_pubsub_ingress_bulk_event_count',
      'Total number of incoming messages arriving from the bulk pub/sub component via Bulk Subscribe.',
      ingress,
    );
    this.ingressLatency = factory.histogram(
      'dapr_component_pubsub_ingress_bulk_latencies',
      'The consuming app event processing latency for the bulk pub/sub component.',
      ingress,
    );
    this.egressCount = factory.counter('dapr_component_pubsub_egress_bulk_count', 'The number of bulk publish calls to the pub/sub component.', egress);
    this.egressEventCount = factory.counter(
      'dapr_component_pubsub_egress_bulk_event_count',
      'The number of outgoing messages to the pub/sub component published through bulk publish API.',
      egress,
    );
    this.egressLatency = factory.histogram(
      'dapr_component_pubsub_egress_bulk_latencies',
      'The latency of the response for the bulk publish call from the pub/sub component.',
      egress,
    );
  }

  /** One bulk request to the app and the status the app gave each entry. */
  recordIngress(component: string, topic: string, entries: Readonly<Record<BulkEntryStatus, number>>, durationMs: number): void {
    const labels = (processStatus: string) => ({ app_id: this.appId, component, namespace: this.namespace, process_status: processStatus, topic });
    const call = labels('');
    this.ingressCount.inc(call);
    if (durationMs > 0) this.ingressLatency.observe(call, durationMs);
    for (const status of ['SUCCESS', 'RETRY', 'DROP'] as const) {
      const n = entries[status];
      if (n > 0) this.ingressEventCount.inc(labels(status), n);
    }
  }

  /** One bulk publish; `success` is false when any entry failed, `published` counts the accepted ones. */
  recordEgress(component: string, topic: string, success: boolean, published: number, durationMs: number): void {
    const labels = { app_id: this.appId, component, namespace: this.namespace, success: String(success), topic };
    this.egressCount.inc(labels);
    if (published > 0) this.egressEventCount.inc({ ...labels, success: 'true' }, published);
    if (durationMs > 0) this.egressLatency.observe(labels, durationMs);
  }
}
