/**
 * Publishing, shared by HTTP and gRPC: resolve the component, check topic scopes, build the envelope
 * (or pass an app's CloudEvent or a raw payload through) and hand the bytes to the driver.
 */
import type { ComponentManager, LoadedComponent } from '../../components/manager.js';
import type { BulkPublishEntry, PubSub } from '../../components/pubsub/store.js';
import { isBulkPublisher } from '../../components/pubsub/store.js';
import { withoutEgressMetric } from '../../components/guard.js';
import type { PubsubBulkMetrics } from '../../observability/pubsub-bulk-metrics.js';
import { errorMessage, pubsubErrors } from '../../errors/index.js';
import type { TraceContext } from './cloudevents.js';
import {
  CLOUDEVENT_CONTENT_TYPE,
  completeCloudEvent,
  isCloudEventContentType,
  newCloudEvent,
  serializeCloudEvent,
} from './cloudevents.js';
import { canPublish, parseTopicScopes } from './scopes.js';
import { publishSpan } from '../../observability/messaging-spans.js';
import type { Span, Tracer } from '../../observability/tracing.js';
import type { TopicScopes } from './scopes.js';

/** One publish request. */
export interface PublishInput {
  pubsubName: string;
  topic: string;
  data: Buffer;
  contentType?: string;
  /** `metadata.*` of the request. */
  metadata: Record<string, string>;
  trace?: TraceContext;
}

/** One entry of a bulk publish, already decoded to bytes. */
export interface BulkEntryInput {
  entryId: string;
  data: Buffer;
  contentType: string;
  metadata: Record<string, string>;
}

/** A failed bulk entry. */
export interface FailedEntry {
  entryId: string;
  error: string;
}

/** Parses a Go `strconv.ParseBool` value. */
export function parseGoBool(value: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return undefined;
}

/** Reads `rawPayload` from request metadata; a value that is not a boolean is a 400. */
export function rawPayloadOf(metadata: Record<string, string>): boolean {
  const value = metadata['rawPayload'];
  if (value === undefined || value === '') return false;
  const parsed = parseGoBool(value);
  if (parsed === undefined) throw pubsubErrors.metadata(`strconv.ParseBool: parsing "${value}": invalid syntax`);
  return parsed;
}

/** The publishing half of the pub/sub block. */
export class PubSubPublisher {
  private readonly scopes = new Map<string, TopicScopes>();

  constructor(
    private readonly components: ComponentManager,
    private readonly appId: string,
    /** Read per publish: a PRODUCER span per message whose context the CloudEvent carries. */
    private readonly tracer: () => Pick<Tracer, 'startSpanFromHeaders'> | undefined = () => undefined,
    /** `dapr_component_pubsub_egress_bulk_*`; absent when metrics are off. */
    private readonly bulkMetrics?: PubsubBulkMetrics,
  ) {}

  /** Resolves a component for publishing; throws Dapr's error for every bad input. */
  resolve(pubsubName: string, topic: string): { pubsub: PubSub; component: LoadedComponent } {
    if (pubsubName === '') throw pubsubErrors.nameEmpty(this.appId);
    const component = this.components.get(pubsubName);
    const pubsub = this.components.pubsub(pubsubName);
    if (!component || !pubsub) {
      // Which error depends on whether any pubsub is configured (a list built only on this path).
      if (this.components.ofKind('pubsub').length === 0) throw pubsubErrors.notConfigured(pubsubName, this.appId);
      throw pubsubErrors.notFound(pubsubName, this.appId);
    }
    if (topic === '') throw pubsubErrors.topicEmpty(pubsubName, this.appId);
    if (!canPublish(topic, this.appId, this.scopesOf(component))) throw pubsubErrors.forbidden(topic, this.appId);
    return { pubsub, component };
  }

  /** Publishes one event. */
  async publish(input: PublishInput): Promise<void> {
    const { pubsub } = this.resolve(input.pubsubName, input.topic);
    const span = this.startSpan(input.topic, input.trace);
    const { data, contentType, metadata } = this.envelope(pubsub, span ? { ...input, trace: traceOf(span) } : input);
    try {
      await pubsub.publish({ topic: input.topic, data, metadata, ...(contentType ? { contentType } : {}) });
      span?.end();
    } catch (err) {
      span?.end({ error: true, message: errorMessage(err) });
      throw pubsubErrors.publish(input.pubsubName, input.topic, errorMessage(err));
    }
  }

  private startSpan(topic: string, trace: TraceContext | undefined): Span | undefined {
    const tracer = this.tracer();
    return tracer ? publishSpan(tracer, topic, trace) : undefined;
  }

  /** Publishes many events; returns the entries that failed (empty when all were accepted). */
  async bulkPublish(
    pubsubName: string,
    topic: string,
    entries: readonly BulkEntryInput[],
    metadata: Record<string, string>,
    trace?: TraceContext,
  ): Promise<FailedEntry[]> {
    const { pubsub } = this.resolve(pubsubName, topic);
    const seen = new Set<string>();
    for (const entry of entries) {
      if (entry.entryId === '' || seen.has(entry.entryId)) {
        throw pubsubErrors.unmarshalEvents(pubsubName, topic, 'entryId is duplicated or not present for entry');
      }
      seen.add(entry.entryId);
    }
    // As daprd: one PRODUCER span per entry, so each event carries its own parent.
    const spans = new Map<string, Span>();
    const prepared: BulkPublishEntry[] = entries.map((entry) => {
      const merged = { ...metadata, ...entry.metadata };
      const span = this.startSpan(topic, trace);
      if (span) spans.set(entry.entryId, span);
      const entryTrace = span ? traceOf(span) : trace;
      const env = this.envelope(pubsub, { pubsubName, topic, data: entry.data, contentType: entry.contentType, metadata: merged, ...(entryTrace ? { trace: entryTrace } : {}) });
      return { entryId: entry.entryId, topic, data: env.data, metadata: env.metadata, ...(env.contentType ? { contentType: env.contentType } : {}) };
    });
    const started = performance.now();
    const failed = await this.publishEntries(pubsub, prepared);
    this.bulkMetrics?.recordEgress(pubsubName, topic, failed.length === 0, prepared.length - failed.length, performance.now() - started);
    for (const [entryId, span] of spans) {
      const failure = failed.find((f) => f.entryId === entryId);
      span.end(failure ? { error: true, message: failure.error } : {});
    }
    return failed;
  }

  private async publishEntries(pubsub: PubSub, prepared: BulkPublishEntry[]): Promise<FailedEntry[]> {
    if (isBulkPublisher(pubsub)) {
      try {
        return await pubsub.bulkPublish(prepared);
      } catch (err) {
        return prepared.map((e) => ({ entryId: e.entryId, error: errorMessage(err) }));
      }
    }
    const single = withoutEgressMetric(pubsub);
    const failed: FailedEntry[] = [];
    await Promise.all(
      prepared.map(async (e) => {
        try {
          await single.publish(e);
        } catch (err) {
          failed.push({ entryId: e.entryId, error: errorMessage(err) });
        }
      }),
    );
    return failed;
  }

  private envelope(pubsub: PubSub, input: PublishInput): { data: Buffer; contentType?: string; metadata: Record<string, string> } {
    const raw = rawPayloadOf(input.metadata);
    // cloudevent.* overrides are envelope fields, not broker metadata.
    const brokerMetadata = withoutCloudEventKeys(input.metadata);
    if (raw) return { data: input.data, metadata: brokerMetadata, ...(input.contentType ? { contentType: input.contentType } : {}) };
    const expiration = this.expiration(pubsub, input.metadata);
    const options = {
      topic: input.topic,
      pubsubName: input.pubsubName,
      source: this.appId,
      metadata: input.metadata,
      ...(input.trace ? { trace: input.trace } : {}),
      ...(expiration ? { expiration } : {}),
    };
    let event;
    if (isCloudEventContentType(input.contentType)) {
      try {
        event = completeCloudEvent(input.data, options);
      } catch {
        throw pubsubErrors.cloudEventCreation();
      }
    } else {
      event = newCloudEvent({ ...options, data: input.data, ...(input.contentType ? { contentType: input.contentType } : {}) });
    }
    return { data: serializeCloudEvent(event), contentType: CLOUDEVENT_CONTENT_TYPE, metadata: brokerMetadata };
  }

  /** `ttlInSeconds` becomes a CloudEvent `expiration` unless the broker expires messages itself. */
  private expiration(pubsub: PubSub, metadata: Record<string, string>): Date | undefined {
    const ttl = metadata['ttlInSeconds'];
    if (ttl === undefined || ttl === '') return undefined;
    const seconds = Number(ttl);
    if (!Number.isInteger(seconds) || seconds < 0) throw pubsubErrors.cloudEventCreation();
    if (pubsub.features().includes('MESSAGE_TTL')) return undefined;
    return new Date(Date.now() + seconds * 1000);
  }

  private scopesOf(component: LoadedComponent): TopicScopes {
    let scopes = this.scopes.get(component.name);
    if (!scopes) {
      scopes = parseTopicScopes(component.properties);
      this.scopes.set(component.name, scopes);
    }
    return scopes;
  }
}

/** A span's context as the trace fields of a CloudEvent. */
function traceOf(span: Span): TraceContext {
  return { traceparent: span.traceparent, ...(span.tracestate ? { tracestate: span.tracestate } : {}) };
}

/** Request metadata without its `cloudevent.*` keys; the same object when it has none (the usual case). */
function withoutCloudEventKeys(metadata: Record<string, string>): Record<string, string> {
  for (const key in metadata) {
    if (key.startsWith('cloudevent.')) return Object.fromEntries(Object.entries(metadata).filter(([k]) => !k.startsWith('cloudevent.')));
  }
  return metadata;
}
