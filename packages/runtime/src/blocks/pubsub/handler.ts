/**
 * What happens to one message of one subscription: decode it to a CloudEvent (or wrap raw bytes),
 * drop it if expired, pick the route with the CEL rules, deliver it with in-process retries and
 * backoff, and settle it: ack on SUCCESS, dead-letter then ack on DROP or exhausted retries, or hand
 * it back to the broker (`retry`) when there is no dead-letter topic. A 404 is acked without
 * dead-lettering, as Dapr does.
 *
 * When a Resiliency policy targets the pubsub component inbound (or a `DefaultPubsubComponentInbound…`
 * policy applies), its timeout, retries and circuit breaker replace the `WEFT_PUBSUB_*` in-process
 * retries. While the app is unhealthy no attempt is made: deliveries wait, holding their messages.
 */
import type { AppChannel } from '../../appchannel/app-channel.js';
import type { HandlerOutcome, PubSub, PubSubMessage } from '../../components/pubsub/store.js';
import type { Logger } from '../../logging/logger.js';
import type { WeftMetrics } from '../../observability/metrics.js';
import type { PubSubTraffic } from '../../admin/pubsub-traffic.js';
import type { Tracer } from '../../observability/tracing.js';
import { deliverySpan } from '../../observability/messaging-spans.js';
import { cloudEventId, reportDeliveryError } from '../../observability/delivery-errors.js';
import type { DeliveryFailure } from '../../observability/delivery-errors.js';
import { markPermanent } from '../../resiliency/policy.js';
import type { PolicyRunner } from '../../resiliency/policy.js';
import type { CloudEvent } from './cloudevents.js';
import { hasExpired, rawPayloadCloudEvent } from './cloudevents.js';
import type { DeliveryResult, Verdict } from './delivery.js';
import { deliverEvent } from './delivery.js';
import { parseGoBool } from './publish.js';
import type { DeliveryPolicy } from './retry.js';
import { backoffMs, sleep } from './retry.js';
import { selectRoute } from './routing.js';
import type { SubscriptionSpec } from './subscriptions.js';

/** What a subscription handler needs. */
export interface HandlerContext {
  spec: SubscriptionSpec;
  pubsub: PubSub;
  channel: AppChannel;
  policy: DeliveryPolicy;
  logger: Logger;
  /** Aborted when the subscription stops: retries end and the message goes back to the broker. */
  signal: AbortSignal;
  /** The component's inbound resiliency policy; absent or no-op means the `policy` retries. */
  inbound?: PolicyRunner | undefined;
  metrics?: WeftMetrics | undefined;
  /** False while app health checks fail: deliveries wait. Absent means always available. */
  appAvailable?: (() => boolean) | undefined;
  /** A CLIENT span per delivery attempt under the event's `traceparent`; the app gets the span's context. */
  tracer?: Pick<Tracer, 'startSpanFromHeaders'> | undefined;
  /** Recent traffic for the admin API: every attempt's verdict and every dead-lettered message. */
  traffic?: PubSubTraffic | undefined;
}

/** Waits until the app is available; false if the subscription stopped first. */
export async function appAvailable(ctx: HandlerContext): Promise<boolean> {
  while (ctx.appAvailable && !ctx.appAvailable()) {
    if (!(await sleep(100, ctx.signal))) return false;
  }
  return !ctx.signal.aborted;
}

/** Records one delivery attempt in `dapr_component_pubsub_ingress_*`. */
export function recordIngress(ctx: HandlerContext, topic: string, verdict: Verdict, startedMs: number): void {
  if (!ctx.metrics) return;
  const status = verdict === 'success' ? 'success' : verdict === 'retry' ? 'retry' : 'drop';
  ctx.metrics.recordPubsubIngress(ctx.spec.pubsubName, topic, status, status, performance.now() - startedMs);
}

/** A RETRY answer under an inbound policy: thrown so the policy retries and counts it. */
class RetryVerdictError extends Error {}

/** One attempt, aborted by the subscription stopping as well as by `attemptSignal`. */
async function attemptOnce(ctx: HandlerContext, path: string, event: CloudEvent, message: PubSubMessage, attemptSignal?: AbortSignal): Promise<DeliveryResult> {
  const started = performance.now();
  const span = ctx.tracer ? deliverySpan(ctx.tracer, message.topic, event) : undefined;
  // A raw payload's event is made here, not decoded from the broker's bytes.
  const raw = isRawPayload(ctx.spec);
  try {
    const result = await deliverEvent({
      ...(span ? { traceparent: span.traceparent } : {}),
      channel: ctx.channel,
      path,
      pubsubName: ctx.spec.pubsubName,
      topic: message.topic,
      event,
      bytes: raw ? undefined : message.data,
      metadata: message.metadata,
      timeoutMs: ctx.policy.deliveryTimeoutMs,
      signal: ctx.signal,
      attemptSignal,
    });
    recordIngress(ctx, message.topic, result.verdict, started);
    if (result.warning) ctx.logger.warn(result.warning, { pubsubName: ctx.spec.pubsubName, topic: message.topic, route: path });
    ctx.traffic?.record({
      pubsubName: ctx.spec.pubsubName,
      topic: message.topic,
      outcome: result.verdict === 'notFound' ? 'drop' : result.verdict,
      route: path,
      ...(result.reason ? { reason: result.reason } : {}),
      data: message.data,
      ...(raw ? {} : { event }),
    });
    span?.end({ error: result.verdict === 'retry', ...(result.verdict === 'retry' ? { message: result.reason ?? 'the app asked for a retry' } : {}) });
    return result;
  } catch (err) {
    span?.end({ error: true, message: (err as Error).message });
    throw err;
  }
}

/** Delivery under the component's inbound policy: its retries, timeout and breaker decide. */
async function deliverUnderPolicy(ctx: HandlerContext, policy: PolicyRunner, path: string, event: CloudEvent, message: PubSubMessage): Promise<{ verdict: Verdict; reason: string }> {
  try {
    const result = await policy.execute(async ({ signal }) => {
      if (!(await appAvailable(ctx))) throw markPermanent(new Error('the subscription stopped'));
      const r = await attemptOnce(ctx, path, event, message, signal);
      if (r.verdict === 'retry') throw new RetryVerdictError(r.reason ?? 'the app asked for a retry');
      return r;
    });
    return { verdict: result.verdict, reason: result.reason ?? '' };
  } catch (err) {
    return { verdict: 'retry', reason: (err as Error).message };
  }
}

/** A message decoded for delivery, or the reason it cannot be. */
export type Decoded = { event: CloudEvent } | { error: string };

/** True when the subscription asked for raw payloads. */
export function isRawPayload(spec: SubscriptionSpec): boolean {
  const value = spec.metadata['rawPayload'];
  return value !== undefined && parseGoBool(value.replace(/^"|"$/g, '')) === true;
}

/** Decodes broker bytes into the CloudEvent the app receives. */
export function decodeMessage(spec: SubscriptionSpec, message: PubSubMessage): Decoded {
  if (isRawPayload(spec)) return { event: rawPayloadCloudEvent(message.data, message.topic, spec.pubsubName) };
  try {
    const parsed = JSON.parse(message.data.toString('utf8')) as unknown;
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return { error: 'the message is not a CloudEvent JSON object' };
    return { event: parsed as CloudEvent };
  } catch (err) {
    return { error: `error deserializing cloud event: ${(err as Error).message}` };
  }
}

/** Publishes the original message to the dead-letter topic; false if that failed. */
export async function deadLetter(ctx: HandlerContext, message: PubSubMessage, why: string): Promise<boolean> {
  const topic = ctx.spec.deadLetterTopic;
  if (!topic) {
    ctx.logger.warn(`dropping event from topic ${message.topic} on pubsub ${ctx.spec.pubsubName}: ${why}`);
    return true;
  }
  try {
    await ctx.pubsub.publish({ topic, data: message.data, metadata: message.metadata, ...(message.contentType ? { contentType: message.contentType } : {}) });
    ctx.logger.warn(`sent event from topic ${message.topic} to dead-letter topic ${topic}: ${why}`);
    ctx.traffic?.recordDeadLetter({ pubsubName: ctx.spec.pubsubName, deadLetterTopic: topic, reason: why, message });
    return true;
  } catch (err) {
    reportDeliveryError(ctx, failure(ctx, message, `the broker redelivers it (publishing to dead-letter topic ${topic} failed)`), err);
    return false;
  }
}

function failure(ctx: HandlerContext, message: PubSubMessage, then: string): DeliveryFailure {
  return { block: 'pubsub', component: ctx.spec.pubsubName, topic: message.topic, eventId: cloudEventId(message.data), then };
}

/** Settles a final verdict into the driver outcome. */
export async function settle(ctx: HandlerContext, message: PubSubMessage, verdict: Verdict, reason: string): Promise<HandlerOutcome> {
  switch (verdict) {
    case 'success':
      return 'ack';
    case 'notFound':
      ctx.logger.error(`non-retriable error delivering event from topic ${message.topic}: ${reason}; dropped`);
      return 'ack';
    case 'drop':
      return (await deadLetter(ctx, message, reason)) ? 'ack' : 'retry';
    case 'retry':
      if (ctx.signal.aborted) return 'retry';
      if (!ctx.spec.deadLetterTopic) {
        // Retries are exhausted and there is nowhere to park the event: say so before the broker redelivers it.
        reportDeliveryError(ctx, failure(ctx, message, 'handed back to the broker for redelivery'), reason || 'the app asked for a retry');
        return 'retry';
      }
      return (await deadLetter(ctx, message, `retries exhausted (${reason})`)) ? 'ack' : 'retry';
  }
}

/** Handles one message of a single-delivery subscription. */
export async function handleMessage(ctx: HandlerContext, message: PubSubMessage): Promise<HandlerOutcome> {
  const decoded = decodeMessage(ctx.spec, message);
  if ('error' in decoded) {
    ctx.logger.error(`cannot deliver message from topic ${message.topic} on pubsub ${ctx.spec.pubsubName}: ${decoded.error}`);
    return settle(ctx, message, 'drop', decoded.error);
  }
  const { event } = decoded;
  if (hasExpired(event)) return settle(ctx, message, 'drop', `event expired at ${String(event['expiration'])}`);
  const path = selectRoute(ctx.spec.rules, event);
  if (path === undefined) return settle(ctx, message, 'drop', 'no route matched the event');
  if (ctx.inbound && !ctx.inbound.isNoop) {
    // Wait for a healthy app outside the policy, so the wait does not count against its timeout.
    if (!(await appAvailable(ctx))) return 'retry';
    const last = await deliverUnderPolicy(ctx, ctx.inbound, path, event, message);
    if (ctx.signal.aborted && last.verdict === 'retry') return 'retry';
    return settle(ctx, message, last.verdict, last.reason);
  }
  let last = { verdict: 'retry' as Verdict, reason: '' };
  for (let attempt = 0; attempt <= ctx.policy.maxRetries; attempt++) {
    if (attempt > 0 && !(await sleep(backoffMs(ctx.policy, attempt), ctx.signal))) return 'retry';
    if (!(await appAvailable(ctx))) return 'retry';
    const result = await attemptOnce(ctx, path, event, message);
    last = { verdict: result.verdict, reason: result.reason ?? '' };
    if (result.verdict !== 'retry') break;
    ctx.logger.debug(`delivery of event ${String(event['id'])} to ${path} will be retried: ${last.reason}`);
  }
  return settle(ctx, message, last.verdict, last.reason);
}
