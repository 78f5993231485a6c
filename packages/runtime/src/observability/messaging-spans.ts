/**
 * Spans of pub/sub and bindings. Delivering an event to the app is a CLIENT span `pubsub/<topic>`
 * under the event's `traceparent` (or, as daprd falls back, its `traceid`), with daprd's
 * subscription attributes (`messaging.system` = `pubsub`, `messaging.destination` = topic,
 * `messaging.destination_kind` = `topic`); the app receives the span's context. Publishing is a
 * PRODUCER span of the same name whose context the CloudEvent carries (daprd opens PRODUCER spans per
 * entry of a bulk publish). Output bindings are a CLIENT span `bindings/<name>` with daprd's binding
 * attributes (`db.system` = `bindings`, `db.name`, `db.statement` = operation).
 */
import { ATTR } from './api-spans.js';
import type { Span, Tracer } from './tracing.js';

const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);

function topicAttributes(topic: string): Record<string, string> {
  return { [ATTR.messagingSystem]: 'pubsub', [ATTR.messagingDestination]: topic, [ATTR.messagingDestinationKind]: 'topic' };
}

/** The CLIENT span of one delivery attempt of a CloudEvent to the app. */
export function deliverySpan(tracer: Pick<Tracer, 'startSpanFromHeaders'>, topic: string, event: Record<string, unknown>): Span {
  const parent = str(event['traceparent']) ?? str(event['traceid']);
  return tracer.startSpanFromHeaders(`pubsub/${topic}`, 'CLIENT', parent, str(event['tracestate']), topicAttributes(topic));
}

/** The PRODUCER span of publishing one message, under the publishing request's trace context. */
export function publishSpan(tracer: Pick<Tracer, 'startSpanFromHeaders'>, topic: string, trace: { traceparent?: string; tracestate?: string } | undefined): Span {
  return tracer.startSpanFromHeaders(`pubsub/${topic}`, 'PRODUCER', trace?.traceparent, trace?.tracestate, topicAttributes(topic));
}

/** The CLIENT span of one output binding call, under the request's trace context. */
export function outputBindingSpan(tracer: Pick<Tracer, 'startSpanFromHeaders'>, name: string, operation: string, metadata: Record<string, string>): Span {
  return tracer.startSpanFromHeaders(`bindings/${name}`, 'CLIENT', metadata['traceparent'], metadata['tracestate'], {
    [ATTR.dbSystem]: 'bindings',
    [ATTR.dbConnectionString]: 'bindings',
    [ATTR.dbName]: name,
    [ATTR.dbStatement]: operation,
  });
}

/** The CLIENT span of delivering an input binding event to the app (`bindings/<name>`, as daprd). */
export function inputBindingSpan(tracer: Pick<Tracer, 'startSpanFromHeaders'>, name: string, route: string, metadata: Record<string, string>): Span {
  return tracer.startSpanFromHeaders(`bindings/${name}`, 'CLIENT', metadata['traceparent'], metadata['tracestate'], {
    [ATTR.dbSystem]: 'bindings',
    [ATTR.dbConnectionString]: `POST ${route}`,
    [ATTR.dbName]: name,
    [ATTR.rpcService]: 'Dapr',
  });
}
