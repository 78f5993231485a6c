/**
 * `--config` acting on a real in-process sidecar: secret scopes over HTTP and gRPC, API allow/deny
 * lists per protocol, API logging, and a bad file failing start-up with the file and the field.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResourceError } from '../../packages/runtime/src/index.js';
import { daprGrpcClient } from '../support/grpc-client.js';
import { localFileSecretStore, startObservedSidecar } from './observe-env.js';
import type { ObservedSidecar } from './observe-env.js';

const CONFIG = (spec: string) => `apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: observe}\nspec:\n${spec}`;
const MEMORY_STORE = `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: memstore}\nspec: {type: state.in-memory, version: v1}\n`;

let secretsDir: string;
beforeAll(async () => {
  secretsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-observe-secrets-'));
});
afterAll(async () => {
  await fs.rm(secretsDir, { recursive: true, force: true });
});

describe('secret scopes', () => {
  let s: ObservedSidecar;
  beforeAll(async () => {
    s = await startObservedSidecar({
      resources: [await localFileSecretStore(secretsDir, 'vault', { open: 'o-value', closed: 'c-value', other: 'x' })],
      config: CONFIG(`  secrets:\n    scopes:\n    - {storeName: vault, defaultAccess: allow, deniedSecrets: [closed]}\n`),
    });
  });
  afterAll(() => s.stop());

  it('answers 403 ERR_PERMISSION_DENIED for a denied secret over HTTP', async () => {
    const res = await fetch(`${s.baseUrl}/v1.0/secrets/vault/closed`);
    expect(res.status).toBe(403);
    expect(((await res.json()) as { errorCode: string }).errorCode).toBe('ERR_PERMISSION_DENIED');
    expect(await (await fetch(`${s.baseUrl}/v1.0/secrets/vault/open`)).json()).toEqual({ open: 'o-value' });
  });

  it('silently leaves denied secrets out of a bulk read', async () => {
    const body = await (await fetch(`${s.baseUrl}/v1.0/secrets/vault/bulk`)).json();
    expect(body).toEqual({ open: { open: 'o-value' }, other: { other: 'x' } });
  });

  it('answers PERMISSION_DENIED for a denied secret over gRPC', async () => {
    const client = daprGrpcClient(s.sidecar.grpcPort);
    try {
      const { error } = await client.call('GetSecret', { store_name: 'vault', key: 'closed' });
      expect(error?.code).toBe(7);
      const bulk = await client.call('GetBulkSecret', { store_name: 'vault' });
      expect(Object.keys(bulk.reply?.['data'] as object).sort()).toEqual(['open', 'other']);
    } finally {
      client.close();
    }
  });
});

describe('API allow and deny lists', () => {
  let s: ObservedSidecar;
  beforeAll(async () => {
    s = await startObservedSidecar({
      resources: [MEMORY_STORE, await localFileSecretStore(secretsDir, 'vault2', { k: 'v' })],
      config: CONFIG(`  api:
    allowed:
    - {name: state, version: v1.0, protocol: http}
    - {name: metadata, version: v1.0, protocol: http}
    - {name: secrets, version: v1, protocol: grpc}
    denied:
    - {name: metadata, version: v1.0, protocol: http}
`),
    });
  });
  afterAll(() => s.stop());

  it('serves only the allowed HTTP APIs, keeps health open, and lets a deny win', async () => {
    expect((await fetch(`${s.baseUrl}/v1.0/state/memstore/k`)).status).toBe(204);
    expect((await fetch(`${s.baseUrl}/v1.0/secrets/vault2/k`)).status).toBe(404);
    expect((await fetch(`${s.baseUrl}/v1.0/metadata`)).status).toBe(404);
    expect((await fetch(`${s.baseUrl}/v1.0/healthz`)).status).toBe(204);
  });

  it('answers PERMISSION_DENIED for gRPC methods outside the gRPC allow-list', async () => {
    const client = daprGrpcClient(s.sidecar.grpcPort);
    try {
      const state = await client.call('GetState', { store_name: 'memstore', key: 'k' });
      expect(state.error?.code).toBe(7);
      expect(state.error?.details).toBe('access to method /dapr.proto.runtime.v1.Dapr/GetState is not allowed');
      expect((await client.call('GetSecret', { store_name: 'vault2', key: 'k' })).reply?.['data']).toEqual({ k: 'v' });
    } finally {
      client.close();
    }
  });
});

describe('API logging', () => {
  it('logs method, path, status and duration for each call, never the query string', async () => {
    const s = await startObservedSidecar({
      resources: [MEMORY_STORE],
      config: CONFIG(`  logging:\n    apiLogging: {enabled: true, omitHealthChecks: true}\n`),
    });
    try {
      await fetch(`${s.baseUrl}/v1.0/state/memstore/order-1?metadata.token=hush`);
      await fetch(`${s.baseUrl}/v1.0/healthz`);
      const lines = s.logs().filter((l) => l['msg'] === 'HTTP API Called');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatchObject({ scope: 'dapr.runtime.http-info', method: 'GET /v1.0/state/memstore/order-1', code: 204 });
      expect(typeof lines[0]?.['duration']).toBe('number');
      expect(s.rawLogs()).not.toContain('hush');
    } finally {
      await s.stop();
    }
  });

  it('replaces the path by the endpoint name when obfuscateURLs is set', async () => {
    const s = await startObservedSidecar({
      resources: [MEMORY_STORE],
      config: CONFIG(`  logging:\n    apiLogging: {enabled: true, obfuscateURLs: true}\n`),
    });
    try {
      await fetch(`${s.baseUrl}/v1.0/state/memstore/customer-42`);
      const line = s.logs().find((l) => l['msg'] === 'HTTP API Called');
      expect(line?.['method']).toBe('GET GetState');
      expect(s.rawLogs()).not.toContain('customer-42');
    } finally {
      await s.stop();
    }
  });
});

describe('a bad Configuration file', () => {
  it('stops start-up with the file and the field', async () => {
    const err = await startObservedSidecar({ config: CONFIG(`  secrets:\n    scopes:\n    - {storeName: vault, defaultAcess: deny}\n`) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ResourceError);
    expect((err as ResourceError).message).toMatch(/config\.yaml: spec\.secrets\.scopes\.0\.defaultAcess: Unrecognized key/);
  });
});
