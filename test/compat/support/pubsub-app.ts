/**
 * The pub/sub compatibility fixture shared by the HTTP and gRPC app variants: a real `weft sidecar`
 * (embedded default pub/sub, fast retries) and a `@dapr/dapr` `DaprServer` subscribing to one topic
 * per scenario — plain, CEL-routed, RETRY, DROP with a dead-letter topic, bulk, and (HTTP only)
 * rawPayload — recording what each handler was given.
 */
import { DaprPubSubStatusEnum, LogLevel } from '@dapr/dapr';
import type { DaprServer } from '@dapr/dapr';
import { eventually } from '../../support/subscriber-app.js';
import type { WeftProcess } from '../../support/weft-process.js';
import { startSdkServerApp } from './sdk-server-app.js';

/** The pub/sub component the fixture uses (the embedded default). */
export const PS = 'pubsub';

/** What one handler was given. */
export interface Delivery {
  data: unknown;
  headers?: Record<string, unknown>;
}

/** A running sidecar and subscribed app. */
export interface PubsubApp {
  weft: WeftProcess;
  server: DaprServer;
  /** Deliveries by topic key. */
  got: Record<string, Delivery[]>;
  stop(): Promise<void>;
}

/** Starts the sidecar and the app in `mode`, and waits until every subscription is active. */
export async function startPubsubApp(mode: 'http' | 'grpc'): Promise<PubsubApp> {
  const grpc = mode === 'grpc';
  const { weft, server, stop } = await startSdkServerApp({
    mode,
    appId: grpc ? 'compat-grpc-app' : 'compat-app',
    env: { WEFT_PUBSUB_RETRY_INTERVAL: '100ms', WEFT_PUBSUB_MAX_RETRIES: '2' },
    ...(grpc ? { logger: { level: LogLevel.Error } } : {}),
  });
  const got: Record<string, Delivery[]> = {};
  const record = (key: string) => (data: unknown, headers?: object) => {
    (got[key] ??= []).push({ data, headers: headers as Record<string, unknown> });
  };
  await server.pubsub.subscribe(PS, 'orders', async (data: unknown, headers: object) => record('orders')(data, headers));
  await server.pubsub.subscribeWithOptions(PS, 'routed', {
    route: { rules: [{ match: 'event.type == "widget"', path: '/widgets' }], default: '/routed-default' },
    callback: async (data: unknown) => record('routed')(data),
  });
  if (!grpc) await server.pubsub.subscribe(PS, 'raw', async (data: unknown) => record('raw')(data), undefined, { rawPayload: true });
  let retries = 0;
  await server.pubsub.subscribe(PS, 'retry', async (data: unknown) => {
    record('retry')(data);
    return retries++ < 2 ? DaprPubSubStatusEnum.RETRY : DaprPubSubStatusEnum.SUCCESS;
  });
  await server.pubsub.subscribeWithOptions(PS, 'drop', {
    deadLetterTopic: 'dead',
    callback: async (data: unknown) => {
      record('drop')(data);
      return DaprPubSubStatusEnum.DROP;
    },
  });
  await server.pubsub.subscribe(PS, 'dead', async (data: unknown) => record('dead')(data));
  await server.pubsub.subscribeBulk(PS, 'bulk', async (data: unknown) => record('bulk')(data), { maxMessagesCount: 5, maxAwaitDurationMs: 200 });
  await server.start();
  const expected = grpc ? 6 : 7;
  await eventually(async () => {
    const meta = (await (await fetch(`http://127.0.0.1:${weft.httpPort}/v1.0/metadata`)).json()) as { subscriptions: unknown[] };
    return meta.subscriptions.length === expected;
  }, 20_000, `${expected} subscriptions active`);
  return { weft, server, got, stop };
}
