/**
 * The subscribing half of the pub/sub block: once the app is reachable, ask it for its subscriptions
 * (`GET /dapr/subscribe`), add the declarative ones, and subscribe each on its driver with the app id
 * as consumer group. Stopping aborts retries and leaves unfinished messages to the broker.
 */
import { setMaxListeners } from 'node:events';
import type { AppChannel } from '../../appchannel/app-channel.js';
import type { ComponentManager } from '../../components/manager.js';
import { readProperty } from '../../components/metadata.js';
import type { HandlerOutcome, PubSubMessage, Subscription } from '../../components/pubsub/store.js';
import type { Logger } from '../../logging/logger.js';
import type { WeftMetrics } from '../../observability/metrics.js';
import type { Resiliency } from '../../resiliency/resiliency.js';
import type { Tracer } from '../../observability/tracing.js';
import type { LoadedDocument } from '../../resources/loader.js';
import { cloudEventId, reportDeliveryError } from '../../observability/delivery-errors.js';
import { BulkHandler } from './bulk-handler.js';
import { handleMessage } from './handler.js';
import type { HandlerContext } from './handler.js';
import type { PubSubTraffic } from '../../admin/pubsub-traffic.js';
import type { DeliveryPolicy } from './retry.js';
import { sleep } from './retry.js';
import { canSubscribe, parseTopicScopes } from './scopes.js';
import type { SubscriptionSpec } from './subscriptions.js';
import { parseDeclarative, parseProgrammatic } from './subscriptions.js';

/** Default number of messages of one subscription in flight at once. */
export const DEFAULT_SUBSCRIPTION_CONCURRENCY = 10;

/** Options of {@link PubSubSubscriber}. */
export interface PubSubSubscriberOptions {
  components: ComponentManager;
  appId: string;
  logger: Logger;
  policy: DeliveryPolicy;
  /** `Subscription` documents from the resources paths. */
  declarative: readonly LoadedDocument[];
  /** Inbound policies of pubsub components (`targets.components.<name>.inbound`). */
  resiliency?: Resiliency | undefined;
  metrics?: WeftMetrics | undefined;
  /** False while app health checks fail; deliveries pause until it is true again. */
  appAvailable?: () => boolean;
  /** Spans for deliveries, continuing the event's trace (read when subscriptions start). */
  tracer?: () => Tracer | undefined;
  /** Recent traffic and dead letters for the admin API. */
  traffic?: PubSubTraffic | undefined;
}

/** A subscription as the metadata API lists it. */
export interface SubscriptionMetadata {
  pubsubname: string;
  topic: string;
  metadata: Record<string, string>;
  rules: { match: string; path: string }[];
  deadLetterTopic: string;
  type: 'PROGRAMMATIC' | 'DECLARATIVE';
}

function positiveInt(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value.replace(/^"|"$/g, ''));
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

/** Discovers and runs the app's subscriptions. */
export class PubSubSubscriber {
  private readonly active: { spec: SubscriptionSpec; subscription: Subscription }[] = [];
  private readonly stopping = new AbortController();
  private readonly inFlight = new Set<Promise<HandlerOutcome>>();
  private bulkHandlers: BulkHandler[] = [];

  constructor(private readonly options: PubSubSubscriberOptions) {
    // Every delivery in flight listens for shutdown on this one signal.
    setMaxListeners(0, this.stopping.signal);
  }

  /** The running subscriptions, for the metadata API. */
  list(): SubscriptionMetadata[] {
    return this.active.map(({ spec }) => ({
      pubsubname: spec.pubsubName,
      topic: spec.topic,
      metadata: spec.metadata,
      rules: spec.rules.map((r) => ({ match: r.match, path: r.path })),
      deadLetterTopic: spec.deadLetterTopic ?? '',
      type: spec.type,
    }));
  }

  /** Discovers subscriptions over the channel and starts them. Never throws: problems are logged. */
  async start(channel: AppChannel): Promise<void> {
    const { logger, appId } = this.options;
    if (this.options.components.ofKind('pubsub').length === 0) return;
    const declarative = parseDeclarative(this.options.declarative, appId);
    const programmatic = await this.discover(channel);
    const seen = new Set<string>();
    for (const problem of [...declarative.problems, ...programmatic.problems]) logger.error(`ignoring subscription: ${problem.message}`);
    for (const spec of [...declarative.subscriptions, ...programmatic.subscriptions]) {
      const key = `${spec.pubsubName}||${spec.topic}`;
      if (seen.has(key)) {
        logger.warn(`ignoring duplicate subscription to topic ${spec.topic} on pubsub ${spec.pubsubName} (${spec.type})`);
        continue;
      }
      seen.add(key);
      if (this.stopping.signal.aborted) return;
      await this.subscribe(spec, channel);
    }
  }

  /** Stops every subscription and waits for in-flight deliveries to settle. */
  async stop(): Promise<void> {
    this.stopping.abort();
    for (const bulk of this.bulkHandlers) bulk.flush();
    await Promise.all(this.active.map(({ subscription }) => subscription.close().catch(() => undefined)));
    await Promise.allSettled([...this.inFlight]);
    this.active.length = 0;
  }

  private async discover(channel: AppChannel): Promise<{ subscriptions: SubscriptionSpec[]; problems: { where: string; message: string }[] }> {
    const none = { subscriptions: [], problems: [] };
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        const res = await channel.call({
          method: 'GET',
          path: '/dapr/subscribe',
          callback: { kind: 'subscriptions' },
          headers: { 'content-type': 'application/json' },
          signal: AbortSignal.any([this.stopping.signal, AbortSignal.timeout(this.options.policy.deliveryTimeoutMs)]),
        });
        if (res.status === 404) return none;
        if (res.status !== 200) {
          this.options.logger.error(`GET /dapr/subscribe answered HTTP ${res.status}; no programmatic subscriptions`);
          return none;
        }
        let body: unknown;
        try {
          body = JSON.parse(res.body.toString('utf8'));
        } catch {
          return { subscriptions: [], problems: [{ where: 'GET /dapr/subscribe', message: 'GET /dapr/subscribe: the answer is not JSON' }] };
        }
        return parseProgrammatic(body);
      } catch (err) {
        this.options.logger.debug('GET /dapr/subscribe failed; retrying', { error: (err as Error).message });
        if (!(await sleep(200 * (attempt + 1), this.stopping.signal))) return none;
      }
    }
    this.options.logger.error('the app did not answer GET /dapr/subscribe; no programmatic subscriptions');
    return none;
  }

  private async subscribe(spec: SubscriptionSpec, channel: AppChannel): Promise<void> {
    const { components, appId, logger } = this.options;
    const component = components.get(spec.pubsubName);
    const pubsub = components.pubsub(spec.pubsubName);
    if (!component || !pubsub) {
      logger.error(`subscription to topic ${spec.topic}: pubsub ${spec.pubsubName} is not found`);
      return;
    }
    if (!canSubscribe(spec.topic, appId, parseTopicScopes(component.properties))) {
      logger.warn(`subscription to topic ${spec.topic} on pubsub ${spec.pubsubName} is not allowed for app id ${appId}`);
      return;
    }
    const ctx: HandlerContext = {
      spec,
      pubsub,
      channel,
      policy: this.options.policy,
      logger: logger.child('weft.runtime.pubsub'),
      signal: this.stopping.signal,
      inbound: this.options.resiliency?.policyFor({ kind: 'component', name: spec.pubsubName, direction: 'inbound', componentKind: 'pubsub' }),
      metrics: this.options.metrics,
      appAvailable: this.options.appAvailable,
      tracer: this.options.tracer?.(),
      traffic: this.options.traffic,
    };
    const bulk = spec.bulkSubscribe ? new BulkHandler(ctx) : undefined;
    if (bulk) this.bulkHandlers.push(bulk);
    const handle = (message: PubSubMessage): Promise<HandlerOutcome> => {
      // A rejection would reach the driver, which can only retry: report it here, once, and count it.
      const work = (bulk ? bulk.handle(message) : handleMessage(ctx, message)).catch((err: unknown) => {
        reportDeliveryError(ctx, { block: 'pubsub', component: spec.pubsubName, topic: message.topic, eventId: cloudEventId(message.data), then: 'the message will be retried' }, err);
        return 'retry' as const;
      });
      this.inFlight.add(work);
      void work.finally(() => this.inFlight.delete(work)).catch(() => undefined);
      return work;
    };
    const single = readProperty(component.properties, 'concurrencyMode')?.toLowerCase() === 'single' ? 1 : undefined;
    let concurrency =
      positiveInt(spec.metadata['concurrency']) ?? positiveInt(readProperty(component.properties, 'concurrency')) ?? single ?? DEFAULT_SUBSCRIPTION_CONCURRENCY;
    if (spec.bulkSubscribe) concurrency = Math.max(concurrency, spec.bulkSubscribe.maxMessagesCount);
    const group = readProperty(component.properties, 'consumerID') || appId;
    try {
      const subscription = await pubsub.subscribe({ topic: spec.topic, group, concurrency, metadata: spec.metadata }, handle);
      if (this.stopping.signal.aborted) {
        await subscription.close();
        return;
      }
      this.active.push({ spec, subscription });
      logger.info(`subscribed to topic ${spec.topic} on pubsub ${spec.pubsubName} (${spec.type.toLowerCase()}, routes ${spec.rules.map((r) => r.path).join(', ')})`);
    } catch (err) {
      logger.error(`failed to subscribe to topic ${spec.topic} on pubsub ${spec.pubsubName}`, { error: (err as Error).message });
    }
  }
}
