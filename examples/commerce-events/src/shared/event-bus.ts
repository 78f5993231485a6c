/**
 * The workers' event bus, after the seed's `common/utils/eventbus` client: `addConsumer(topic,
 * pubsub, handler)` then `start()`, one gRPC server per worker (the app side of Dapr's
 * `AppCallback`, served by `@dapr/dapr`'s `DaprServer` in gRPC mode). It unwraps CloudEvents, takes
 * bytes, strings and objects, and asks Dapr for a retry when a handler throws — the SDK itself would
 * report SUCCESS for a throwing callback, which would silently lose the event.
 */
import { CommunicationProtocolEnum, DaprPubSubStatusEnum, DaprServer } from '@dapr/dapr';
import type { DaprClient } from '@dapr/dapr';
import type { EventEnvelope } from './events.js';
import { envelopeSchema } from './events.js';
import type { Logger } from './logger.js';

/** A consumer: throw to have the event redelivered. */
export type ConsumeFn = (event: EventEnvelope, context: { topic: string; pubsub: string }) => Promise<void>;

/** A consumer of raw payloads (dead-letter topics, where anything may arrive). */
export type RawConsumeFn = (payload: unknown, context: { topic: string; pubsub: string }) => Promise<void>;

/** Options of one subscription. */
export interface ConsumerOptions {
  /** Where Dapr sends the event after the last retry, or when it is dropped. */
  deadLetterTopic?: string;
}

/** Where the worker's gRPC server listens and where its sidecar is. */
export interface EventBusOptions {
  /** @default '127.0.0.1' (the sidecar shares the host or pod) */
  host?: string;
  /** The app port Dapr calls (`--app-port`); the seed's is 5005. */
  port: number;
  /** The sidecar's gRPC API port. @default DAPR_GRPC_PORT */
  daprGrpcPort?: string;
  logger: Logger;
  /** Test-only fault injection (`WORKER_FAULT_INJECTION=1`, `WORKER_HANDLER_DELAY_MS`); off in production. */
  chaos?: ChaosOptions;
}

/** Test-only switches for the end-to-end tests of retries and crashes. */
export interface ChaosOptions {
  /** Honour `metadata.fail_times = "N"` on an event: its first N deliveries throw. Counted per process. */
  failOnRequest: boolean;
  /** Slows every handler down by this much, so a test can kill a worker mid-stream. */
  handlerDelayMs: number;
}

/** Chaos from `WORKER_FAULT_INJECTION` and `WORKER_HANDLER_DELAY_MS`. */
export function chaosFromEnv(env: Readonly<Record<string, string | undefined>>): ChaosOptions {
  return { failOnRequest: env['WORKER_FAULT_INJECTION'] === '1', handlerDelayMs: Number(env['WORKER_HANDLER_DELAY_MS'] ?? 0) || 0 };
}

/** Thrown for a payload that can never be handled; the event is dropped to the dead-letter topic. */
export class MalformedEventError extends Error {
  override name = 'MalformedEventError';
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Bytes, text or an object; CloudEvent envelopes (`specversion` + `data`/`data_base64`) are opened. */
export function unwrapPayload(raw: unknown): unknown {
  let value = raw;
  if (value instanceof Uint8Array) value = Buffer.from(value).toString('utf8');
  if (typeof value === 'string') {
    const text = value.trim();
    if (text === '') throw new MalformedEventError('empty payload');
    try {
      value = JSON.parse(text);
    } catch {
      throw new MalformedEventError(`payload is not JSON: ${text.slice(0, 80)}`);
    }
  }
  if (isRecord(value) && typeof value['specversion'] === 'string') {
    if (typeof value['data_base64'] === 'string') return unwrapPayload(Buffer.from(value['data_base64'], 'base64'));
    return unwrapPayload(value['data']);
  }
  return value;
}

/** The example's envelope from whatever Dapr handed over. */
export function decodeEnvelope(raw: unknown): EventEnvelope {
  const parsed = envelopeSchema.safeParse(unwrapPayload(raw));
  if (!parsed.success) throw new MalformedEventError(`not an event envelope: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return parsed.data as EventEnvelope;
}

/** One gRPC server per worker, with the subscriptions and input bindings its mode enables. */
export class EventBus {
  private readonly server: DaprServer;
  private readonly logger: Logger;
  private readonly failuresSoFar = new Map<string, number>();
  private readonly pending: Promise<void>[] = [];
  private readonly topics: string[] = [];
  private readonly bindings: string[] = [];
  private started = false;

  constructor(private readonly options: EventBusOptions) {
    this.logger = options.logger;
    this.server = new DaprServer({
      serverHost: options.host ?? '127.0.0.1',
      serverPort: String(options.port),
      communicationProtocol: CommunicationProtocolEnum.GRPC,
      clientOptions: {
        communicationProtocol: CommunicationProtocolEnum.GRPC,
        ...(options.daprGrpcPort ? { daprPort: options.daprGrpcPort } : {}),
      },
    });
  }

  /** The gRPC client to this worker's sidecar (publishing, service invocation). */
  get client(): DaprClient {
    return this.server.client;
  }

  /** Topics and bindings registered so far (for the start-up log and tests). */
  get registrations(): { topics: readonly string[]; bindings: readonly string[] } {
    return { topics: this.topics, bindings: this.bindings };
  }

  /** Subscribes `handler` to `topic` on `pubsub`; the route is `/{topic}` as in the seed. */
  addConsumer(topic: string, pubsub: string, handler: ConsumeFn, options: ConsumerOptions = {}): void {
    this.addRawConsumer(topic, pubsub, (raw, context) => handler(decodeEnvelope(raw), context), options);
  }

  /** Like {@link addConsumer}, with the payload as delivered (CloudEvent unwrapped, nothing validated). */
  addRawConsumer(topic: string, pubsub: string, handler: RawConsumeFn, options: ConsumerOptions = {}): void {
    this.assertNotStarted();
    this.topics.push(topic);
    const callback = async (data: unknown): Promise<DaprPubSubStatusEnum> => this.dispatch(topic, pubsub, handler, data);
    this.pending.push(
      this.server.pubsub.subscribeWithOptions(pubsub, topic, {
        callback,
        route: `/${topic}`,
        ...(options.deadLetterTopic ? { deadLetterTopic: options.deadLetterTopic } : {}),
      }),
    );
  }

  /** Receives input binding `name` (cron bindings); errors are logged, the next tick tries again. */
  addBinding(name: string, handler: () => Promise<void>): void {
    this.assertNotStarted();
    this.bindings.push(name);
    this.pending.push(
      this.server.binding.receive(name, async () => {
        const started = Date.now();
        try {
          await handler();
          this.logger.info({ binding: name, ms: Date.now() - started }, 'scheduled job done');
        } catch (err) {
          this.logger.error({ err, binding: name }, 'scheduled job failed');
        }
      }),
    );
  }

  private async dispatch(topic: string, pubsub: string, handler: RawConsumeFn, data: unknown): Promise<DaprPubSubStatusEnum> {
    const started = Date.now();
    let eventId = '';
    try {
      const payload = unwrapPayload(data);
      eventId = isRecord(payload) && typeof payload['event_id'] === 'string' ? payload['event_id'] : '';
      await this.injectFault(topic, eventId, payload);
      await handler(payload, { topic, pubsub });
      this.logger.info({ topic, eventId, ms: Date.now() - started }, 'event handled');
      return DaprPubSubStatusEnum.SUCCESS;
    } catch (err) {
      if (err instanceof MalformedEventError) {
        this.logger.error({ topic, eventId, reason: err.message }, 'malformed event dropped to the dead-letter topic');
        return DaprPubSubStatusEnum.DROP;
      }
      this.logger.warn({ topic, eventId, err: err instanceof Error ? err.message : String(err) }, 'handler failed; asking for a retry');
      return DaprPubSubStatusEnum.RETRY;
    }
  }

  private async injectFault(topic: string, eventId: string, payload: unknown): Promise<void> {
    const chaos = this.options.chaos;
    if (!chaos) return;
    if (chaos.handlerDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, chaos.handlerDelayMs));
    const metadata = isRecord(payload) && isRecord(payload['metadata']) ? payload['metadata'] : {};
    const planned = chaos.failOnRequest ? Number(metadata['fail_times'] ?? 0) : 0;
    if (!(planned > 0)) return;
    const key = `${topic}|${eventId}`;
    const failed = this.failuresSoFar.get(key) ?? 0;
    if (failed < planned) {
      this.failuresSoFar.set(key, failed + 1);
      throw new Error(`injected fault ${failed + 1} of ${planned}`);
    }
  }

  private assertNotStarted(): void {
    if (this.started) throw new Error('register consumers and bindings before start()');
  }

  /** Starts the gRPC server once and waits for the sidecar. */
  async start(): Promise<void> {
    this.started = true;
    await Promise.all(this.pending);
    await this.server.start();
    this.logger.info({ port: this.options.port, topics: this.topics, bindings: this.bindings }, 'event bus started');
  }

  /** Stops the gRPC server. */
  async stop(): Promise<void> {
    if (this.started) await this.server.stop();
  }
}
