/**
 * The pub/sub compatibility fixture shared by the HTTP and gRPC app variants: a real `weft sidecar`
 * (embedded default pub/sub, fast retries) and a `@dapr/dapr` `DaprServer` subscribing to one topic
 * per scenario — plain, CEL-routed, RETRY, DROP with a dead-letter topic, bulk, and (HTTP only)
 * rawPayload — recording what each handler was given.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CommunicationProtocolEnum, DaprPubSubStatusEnum, DaprServer, LogLevel } from '@dapr/dapr';
import { eventually } from '../../support/subscriber-app.js';
import { freePort, startWeftSidecar } from '../../support/weft-process.js';
import type { WeftProcess } from '../../support/weft-process.js';

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
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), `weft-compat-pubsub-${mode}-`));
  const appPort = await freePort();
  const weft = await startWeftSidecar(
    ['--app-id', grpc ? 'compat-grpc-app' : 'compat-app', '--app-port', String(appPort), ...(grpc ? ['--app-protocol', 'grpc'] : []), '--log-level', 'warn'],
    { cwd: dir, env: { WEFT_PUBSUB_RETRY_INTERVAL: '100ms', WEFT_PUBSUB_MAX_RETRIES: '2' } },
  );
  const protocol = grpc ? CommunicationProtocolEnum.GRPC : CommunicationProtocolEnum.HTTP;
  const server = new DaprServer({
    serverHost: '127.0.0.1',
    serverPort: String(appPort),
    communicationProtocol: protocol,
    clientOptions: {
      daprHost: '127.0.0.1',
      daprPort: String(grpc ? weft.grpcPort : weft.httpPort),
      communicationProtocol: protocol,
      ...(grpc ? { logger: { level: LogLevel.Error } } : {}),
    },
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
  return {
    weft,
    server,
    got,
    stop: async () => {
      if (grpc) {
        // The sidecar first: its app channel holds an HTTP/2 connection the app server would wait on.
        await weft.stop();
        await server.stop().catch(() => undefined);
      } else {
        await server.stop().catch(() => undefined);
        await weft.stop();
      }
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
