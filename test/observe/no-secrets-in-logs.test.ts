/**
 * Black-box: the real `weft sidecar` at debug level with API logging, a secret store, and a component
 * whose metadata comes from `secretKeyRef`. After exercising the secrets, state and metadata APIs over
 * HTTP and gRPC (successes and failures), no secret value appears anywhere in its output.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { daprGrpcClient } from '../support/grpc-client.js';
import { startWeftSidecar } from '../support/weft-process.js';
import type { WeftProcess } from '../support/weft-process.js';

const SECRETS = { dbPassword: 'S3cr3t-db-9f2c1e', apiKey: 'S3cr3t-api-77aa0b', nested: 'S3cr3t-nested-c0ffee' };

let dir: string;
const runs: WeftProcess[] = [];

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-nosecrets-'));
  const resources = path.join(dir, 'resources');
  await fs.mkdir(resources);
  await fs.writeFile(path.join(dir, 'secrets.json'), JSON.stringify(SECRETS));
  await fs.writeFile(
    path.join(resources, 'components.yaml'),
    `apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: vault}
spec:
  type: secretstores.local.file
  version: v1
  metadata:
  - {name: secretsFile, value: "${path.join(dir, 'secrets.json')}"}
---
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: store}
spec:
  type: state.in-memory
  version: v1
  metadata:
  - name: password
    secretKeyRef: {name: dbPassword, key: dbPassword}
auth: {secretStore: vault}
`,
  );
});

afterAll(async () => {
  await Promise.all(runs.map((r) => r.stop()));
  await fs.rm(dir, { recursive: true, force: true });
});

for (const json of [true, false]) {
  it(`never logs a secret value (${json ? 'JSON' : 'text'} logs, debug level, API logging on)`, async () => {
    const weft = await startWeftSidecar([
      '--app-id',
      'nosecrets',
      '--resources-path',
      path.join(dir, 'resources'),
      '--log-level',
      'debug',
      '--enable-api-logging',
      '--metrics-port',
      '0',
      ...(json ? ['--log-as-json'] : []),
    ]);
    runs.push(weft);
    const base = `http://127.0.0.1:${weft.httpPort}`;
    expect(await (await fetch(`${base}/v1.0/secrets/vault/dbPassword`)).json()).toEqual({ dbPassword: SECRETS.dbPassword });
    expect(Object.keys((await (await fetch(`${base}/v1.0/secrets/vault/bulk`)).json()) as object)).toHaveLength(3);
    expect((await fetch(`${base}/v1.0/secrets/vault/missing?metadata.x=${SECRETS.apiKey}`)).status).toBe(500);
    expect((await fetch(`${base}/v1.0/state/store`, { method: 'POST', body: JSON.stringify([{ key: 'k', value: 'v' }]) })).status).toBe(204);
    expect((await fetch(`${base}/v1.0/metadata`)).status).toBe(200);
    const client = daprGrpcClient(weft.grpcPort);
    try {
      expect((await client.call('GetSecret', { store_name: 'vault', key: 'apiKey' })).reply?.['data']).toEqual({ apiKey: SECRETS.apiKey });
      expect((await client.call('GetBulkSecret', { store_name: 'vault' })).error).toBeUndefined();
    } finally {
      client.close();
    }
    const output = weft.output();
    expect(output).toContain('HTTP API Called');
    expect(output).toContain('component loaded: store');
    for (const value of Object.values(SECRETS)) expect(output).not.toContain(value);
  });
}
