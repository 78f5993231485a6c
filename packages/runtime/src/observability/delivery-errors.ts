/**
 * Errors on a delivery path — a pub/sub event, an input binding event or a job trigger the app did not
 * take — are not the caller's to see: the event is retried, handed back to the broker or dropped. So
 * that none disappears silently, each is reported here exactly once: one warning carrying the event id,
 * and one increment of `weft_delivery_errors_total{block, component}`.
 */
import type { Logger } from '../logging/logger.js';
import type { WeftMetrics } from './metrics.js';

/** The building block whose delivery failed (the metric's `block` label). */
export type DeliveryBlock = 'pubsub' | 'bindings' | 'jobs';

/** Where a report goes. */
export interface DeliveryErrorSink {
  logger: Logger;
  metrics?: Pick<WeftMetrics, 'recordDeliveryError'> | undefined;
}

/** What failed. */
export interface DeliveryFailure {
  block: DeliveryBlock;
  /** The pub/sub or binding component, or the job's name. */
  component: string;
  /** The CloudEvent id, the binding event's id, or the job name; empty when the event has none. */
  eventId: string;
  topic?: string | undefined;
  /** What happens to the event now ("the broker redelivers it", "dropped"). */
  then: string;
}

/** Logs the failure once, with the event id, and counts it. */
export function reportDeliveryError(sink: DeliveryErrorSink, failure: DeliveryFailure, error: unknown): void {
  const reason = error instanceof Error ? error.message : String(error);
  const id = failure.eventId === '' ? '(no id)' : failure.eventId;
  const where = failure.topic === undefined ? failure.component : `${failure.component}/${failure.topic}`;
  sink.logger.warn(`${failure.block} delivery of event ${id} (${where}) failed: ${reason}; ${failure.then}`, {
    block: failure.block,
    component: failure.component,
    eventId: failure.eventId,
    ...(failure.topic === undefined ? {} : { topic: failure.topic }),
    error: reason,
  });
  sink.metrics?.recordDeliveryError(failure.block, failure.component);
}

/** The CloudEvent `id` of a message's bytes, or empty when they are no CloudEvent JSON. */
export function cloudEventId(data: Buffer): string {
  // Cheap check first: most payloads either are CloudEvents or are not JSON objects at all.
  if (data.length === 0 || data[0] !== 0x7b) return '';
  try {
    const id = (JSON.parse(data.toString('utf8')) as { id?: unknown }).id;
    return typeof id === 'string' || typeof id === 'number' ? String(id) : '';
  } catch {
    return '';
  }
}

/** The id a binding event carries in its metadata, if any (drivers name it differently). */
export function bindingEventId(metadata: Readonly<Record<string, string>>): string {
  return metadata['id'] ?? metadata['messageId'] ?? metadata['message-id'] ?? metadata['cloudevent.id'] ?? '';
}
