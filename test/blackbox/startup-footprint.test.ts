/**
 * What `weft sidecar` loads on the embedded defaults. Each client library, schema and parser is
 * loaded by the component or setting that uses it, so a sidecar with no resources path loads none
 * of them; undici (the invocation client) and prom-client's process metrics load after readiness has
 * been reported, for the invocation warm-up and the process metrics. Start-up time and idle memory
 * follow (see bench/startup).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startWeftSidecar } from '../support/weft-process.js';
import type { WeftProcess } from '../support/weft-process.js';

const RECORDER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../support/record-module-loads.mjs');

/** Libraries only some components or settings use, by the path segment of their package. */
const UNUSED_BY_DEFAULT = [
  'node_modules/pg/',
  'node_modules/ioredis/',
  'node_modules/amqplib/',
  'node_modules/nats/',
  'node_modules/mqtt/',
  'node_modules/zod/',
  'node_modules/yaml/',
  'node_modules/@marcbachmann/cel-js/',
  'node_modules/cron-parser/',
  'node_modules/protobufjs/',
  'node_modules/@grpc/proto-loader/',
  'node_modules/@opentelemetry/sdk-trace-base/',
  // prom-client's index (push gateway, cluster aggregation): observability/prom-client.ts skips it.
  'node_modules/prom-client/index.js',
  'node_modules/prom-client/lib/pushgateway.js',
  'packages/dashboard/',
];

/** Libraries loaded by what follows readiness (the invocation warm-up, the process metrics). */
const AFTER_READINESS = ['node_modules/undici/', 'node_modules/@opentelemetry/api/'];

describe('weft sidecar on the embedded defaults', () => {
  let dir: string;
  let log: string;
  let sidecar: WeftProcess;

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-footprint-'));
    log = path.join(dir, 'modules.log');
    sidecar = await startWeftSidecar(['--app-id', 'footprint', '--data-dir', dir, '--log-level', 'debug'], {
      cwd: dir,
      env: { NODE_OPTIONS: `--import ${RECORDER}`, WEFT_TEST_MODULE_LOG: log },
    });
  });

  afterAll(async () => {
    await sidecar?.stop();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('loads no client library, schema or parser that only other components or settings use', async () => {
    const loaded = (await fs.readFile(log, 'utf8')).split('\n');
    expect(loaded.some((url) => url.includes('node_modules/@grpc/grpc-js/'))).toBe(true);
    expect(UNUSED_BY_DEFAULT.filter((segment) => loaded.some((url) => url.includes(segment)))).toEqual([]);
  });

  it('loads undici and the process metrics only after readiness was reported, then warms up invocation', async () => {
    // The warm-up logs how many calls it made once it is done; the process metrics are added before it.
    await vi.waitFor(() => expect(sidecar.output()).toMatch(/warm-up: [1-9]\d* calls answered/), { timeout: 10_000 });
    const lines = (await fs.readFile(log, 'utf8')).split('\n');
    const reported = lines.findIndex((line) => line.startsWith('response 204 /v1.0/healthz'));
    expect(reported).toBeGreaterThan(0);
    const loadedIn = (part: string[]) => AFTER_READINESS.filter((segment) => part.some((url) => url.includes(segment)));
    expect(loadedIn(lines.slice(0, reported))).toEqual([]);
    expect(loadedIn(lines.slice(reported))).toEqual(AFTER_READINESS);
  });

  it('still serves the gRPC API, parsing the Dapr protos at the first call', async () => {
    const grpc = await import('@grpc/grpc-js');
    const client = new grpc.Client(`127.0.0.1:${sidecar.grpcPort}`, grpc.credentials.createInsecure());
    try {
      // GetMetadata with an empty request; the reply is a serialised GetMetadataResponse.
      const reply = await new Promise<Buffer>((resolve, reject) =>
        client.makeUnaryRequest(
          '/dapr.proto.runtime.v1.Dapr/GetMetadata',
          (b: Buffer) => b,
          (b: Buffer) => b,
          Buffer.alloc(0),
          (err, value) => (err ? reject(err) : resolve(value ?? Buffer.alloc(0))),
        ),
      );
      // Field 1 (id) holds the app id.
      expect(reply.includes(Buffer.from('footprint'))).toBe(true);
    } finally {
      client.close();
    }
  });
});
