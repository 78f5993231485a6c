/**
 * The configuration API's edges through an in-process sidecar over HTTP and gRPC: daprd's error codes
 * (which differ by transport for an unknown store and a failed subscribe), a subscription without an
 * app, the alpha1 paths and RPC names, and shutdown ending open gRPC streams.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDaprRuntimePackage } from '../../packages/runtime/src/api/grpc/protos.js';
import { startTestSidecar } from '../support/in-process.js';
import { startRecordingApp } from '../support/recording-app.js';
import type { TestSidecar } from '../support/in-process.js';
import { daprGrpcClient } from '../support/grpc-client.js';
import type { DaprGrpcClient } from '../support/grpc-client.js';

/** A `configuration.sqlite` store; a relative file lands in the test sidecar's own temp directory. */
const configYaml = (name: string, file: string) => `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: ${name}}
spec:
  type: configuration.sqlite
  version: v1
  metadata:
  - {name: connectionString, value: "${file}"}
`;

type Stream = grpc.ClientReadableStream<{ id: string; items: Record<string, unknown> }>;

function rawClient(port: number): grpc.Client & Record<string, (...args: unknown[]) => unknown> {
  const pkg = loadDaprRuntimePackage() as unknown as {
    dapr: { proto: { runtime: { v1: { Dapr: new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client & Record<string, (...args: unknown[]) => unknown> } } } };
  };
  return new pkg.dapr.proto.runtime.v1.Dapr(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

describe('configuration API with a store and no app', () => {
  let side: TestSidecar;
  let client: DaprGrpcClient;

  beforeAll(async () => {
    side = await startTestSidecar({ resources: [configYaml('cfg', 'cfg.sqlite')] });
    client = daprGrpcClient(side.sidecar.grpcPort);
  });
  afterAll(async () => {
    client?.close();
    await side?.stop();
  });

  it('answers 204 for keys that do not exist, on both the v1.0 and the alpha1 path', async () => {
    expect((await fetch(`${side.baseUrl}/v1.0/configuration/cfg?key=nothing`)).status).toBe(204);
    expect((await fetch(`${side.baseUrl}/v1.0-alpha1/configuration/cfg`)).status).toBe(204);
  });

  it('answers 400 ERR_CONFIGURATION_STORE_NOT_FOUND over HTTP and INVALID_ARGUMENT over gRPC for an unknown store', async () => {
    const res = await fetch(`${side.baseUrl}/v1.0/configuration/nope?key=a`);
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ errorCode: 'ERR_CONFIGURATION_STORE_NOT_FOUND', message: 'configuration store nope not found' });
    const unsub = await fetch(`${side.baseUrl}/v1.0/configuration/nope/some-id/unsubscribe`);
    expect(unsub.status).toBe(400);
    const got = await client.call('GetConfigurationAlpha1', { store_name: 'nope', keys: ['a'] });
    expect(got.error?.code).toBe(3);
    expect(got.error?.metadata.get('dapr-error-code')).toEqual(['ERR_CONFIGURATION_STORE_NOT_FOUND']);
  });

  it('answers 500 ERR_APP_CHANNEL_NIL to an HTTP subscription when the sidecar has no app', async () => {
    const res = await fetch(`${side.baseUrl}/v1.0/configuration/cfg/subscribe?key=a`);
    expect(res.status).toBe(500);
    expect(await res.json()).toEqual({ errorCode: 'ERR_APP_CHANNEL_NIL', message: 'app channel is not initialized. cannot subscribe to configuration updates' });
  });

  it('ends open SubscribeConfigurationAlpha1 streams when the sidecar stops', async () => {
    const other = await startTestSidecar({ resources: [configYaml('cfg2', 'cfg2.sqlite')] });
    const raw = rawClient(other.sidecar.grpcPort);
    try {
      const stream = raw['SubscribeConfigurationAlpha1']!({ store_name: 'cfg2', keys: [] }) as Stream;
      const first = new Promise<{ id: string }>((resolve) => stream.once('data', resolve));
      const ended = new Promise<string>((resolve) => {
        stream.on('end', () => resolve('end'));
        stream.on('error', (err: grpc.ServiceError) => resolve(`error ${err.code}`));
      });
      expect((await first).id).toMatch(/^[0-9a-f-]{36}$/);
      await other.stop();
      expect(await ended).toBe('end');
    } finally {
      raw.close();
    }
  });
});

describe('configuration updates to the app', () => {
  it("are retried under the store's inbound resiliency policy when the app does not answer 200", async () => {
    let calls = 0;
    const app = await startRecordingApp({ '/configuration/cfgr/k': () => ({ status: ++calls < 3 ? 500 : 200 }) });
    const side = await startTestSidecar({
      resources: [
        configYaml('cfgr', 'cfgr.sqlite'),
        `apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata: {name: cfg}\nspec:\n  policies:\n    retries:\n      quick: {policy: constant, duration: 10ms, maxRetries: 3}\n  targets:\n    components:\n      cfgr: {inbound: {retry: quick}}\n`,
      ],
      appPort: app.port,
    });
    try {
      const db = new Database(path.join(side.dir, 'cfgr.sqlite'));
      db.prepare("INSERT INTO configuration (key, value, version) VALUES ('k', 'v', '1')").run();
      db.close();
      expect((await fetch(`${side.baseUrl}/v1.0/configuration/cfgr/subscribe?key=k`)).status).toBe(200);
      const deadline = Date.now() + 10_000;
      while (app.received('POST', '/configuration/cfgr/k').length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(app.received('POST', '/configuration/cfgr/k').map((r) => r.body)).toEqual(Array(3).fill(app.received('POST', '/configuration/cfgr/k')[0]?.body));
      expect(JSON.parse(app.received('POST', '/configuration/cfgr/k')[0]?.body ?? '{}')).toMatchObject({ items: { k: { value: 'v', version: '1' } } });
    } finally {
      await side.stop();
      await app.close();
    }
  });
});

describe('configuration API and the API allow-list', () => {
  it('refuses SubscribeConfiguration with PERMISSION_DENIED when the Configuration allows gRPC state only', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-cfg-acl-'));
    const configPath = path.join(dir, 'config.yaml');
    await fs.writeFile(configPath, 'apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: c}\nspec:\n  api:\n    allowed:\n    - {name: state, version: v1, protocol: grpc}\n');
    const side = await startTestSidecar({ resources: [configYaml('cfga', 'cfga.sqlite')], configPath });
    const raw = rawClient(side.sidecar.grpcPort);
    try {
      const stream = raw['SubscribeConfiguration']!({ store_name: 'cfga', keys: [] }) as Stream;
      const err = await new Promise<grpc.ServiceError | undefined>((resolve) => {
        stream.on('error', resolve);
        stream.on('data', () => resolve(undefined));
      });
      expect(err?.code).toBe(7);
      expect(err?.details).toBe('access to method /dapr.proto.runtime.v1.Dapr/SubscribeConfiguration is not allowed');
    } finally {
      raw.close();
      await side.stop();
      await fs.rm(dir, { recursive: true, force: true });
    }
  });
});

describe('configuration API without a store', () => {
  it('answers 500 ERR_CONFIGURATION_STORE_NOT_CONFIGURED over HTTP and FAILED_PRECONDITION on the gRPC stream', async () => {
    const side = await startTestSidecar({ resources: [] });
    const raw = rawClient(side.sidecar.grpcPort);
    try {
      const res = await fetch(`${side.baseUrl}/v1.0/configuration/any?key=a`);
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ errorCode: 'ERR_CONFIGURATION_STORE_NOT_CONFIGURED', message: 'configuration stores not configured' });
      const stream = raw['SubscribeConfiguration']!({ store_name: 'any', keys: [] }) as Stream;
      const code = await new Promise<number>((resolve) => {
        stream.on('error', (err: grpc.ServiceError) => resolve(err.code));
        stream.on('data', () => resolve(-1));
      });
      expect(code).toBe(9);
    } finally {
      raw.close();
      await side.stop();
    }
  });
});

describe('configuration.postgresql subscriptions', () => {
  it('answer 500 ERR_CONFIGURATION_SUBSCRIBE when the subscription names no pgNotifyChannel, as Dapr requires one', async (ctx) => {
    const { POSTGRES_URL, SERVICES, requireService } = await import('../support/services.js');
    if (!(await requireService(SERVICES.postgres, 'configuration.postgresql subscribe errors'))) return ctx.skip();
    const table = `weft_cfg_api_${process.pid}_${Math.random().toString(36).slice(2, 8)}`;
    const side = await startTestSidecar({
      resources: [
        `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: pgcfg}\nspec:\n  type: configuration.postgresql\n  version: v1\n  metadata:\n  - {name: connectionString, value: "${POSTGRES_URL}"}\n  - {name: table, value: ${table}}\n`,
      ],
      appPort: 1,
    });
    try {
      const res = await fetch(`${side.baseUrl}/v1.0/configuration/pgcfg/subscribe?key=a`);
      expect(res.status).toBe(500);
      const body = (await res.json()) as { errorCode: string; message: string };
      expect(body.errorCode).toBe('ERR_CONFIGURATION_SUBSCRIBE');
      expect(body.message).toMatch(/^failed to subscribe \[a\] from Configuration store pgcfg: .*pgNotifyChannel/);
    } finally {
      await side.stop();
      const pg = (await import('pg')).default;
      const c = new pg.Client({ connectionString: POSTGRES_URL });
      await c.connect();
      await c.query(`DROP TABLE IF EXISTS ${table}`);
      await c.end();
    }
  });
});
