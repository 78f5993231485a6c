/**
 * gRPC errors as daprd sends them, seen by a raw `@grpc/grpc-js` client built from Dapr's protos:
 * the status code, the message, and for errors with a reason a `grpc-status-details-bin` trailer
 * holding a `google.rpc.Status` with a `google.rpc.ErrorInfo` (domain `dapr.io`).
 */
import { createRequire } from 'node:module';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { STORES, startCompatSidecar } from './support/compat-env.js';
import type { CompatSidecar } from './support/compat-env.js';
import { decodeErrorInfo, decodeStatus } from './support/rpc-status.js';

type Unary = (request: object, metadata: grpc.Metadata, callback: (err: grpc.ServiceError | null, reply?: unknown) => void) => void;
type DaprStub = grpc.Client & Record<string, Unary>;

let sidecar: CompatSidecar;
let stub: DaprStub;

function loadDaprStub(address: string): DaprStub {
  const require = createRequire(import.meta.url);
  const root = path.join(path.dirname(require.resolve('@dapr/dapr/package.json')), 'proto');
  const definition = protoLoader.loadSync('dapr/proto/runtime/v1/dapr.proto', {
    includeDirs: [root],
    keepCase: true,
    longs: Number,
    enums: String,
    defaults: true,
  });
  const pkg = grpc.loadPackageDefinition(definition) as unknown as {
    dapr: { proto: { runtime: { v1: { Dapr: new (address: string, credentials: grpc.ChannelCredentials) => DaprStub } } } };
  };
  return new pkg.dapr.proto.runtime.v1.Dapr(address, grpc.credentials.createInsecure());
}

/** Calls a unary RPC; resolves with the reply or the ServiceError. */
function call(method: string, request: object): Promise<{ reply?: unknown; error?: grpc.ServiceError }> {
  return new Promise((resolve) => {
    const fn = stub[method];
    if (!fn) throw new Error(`no RPC ${method}`);
    fn.call(stub, request, new grpc.Metadata(), (error, reply) => resolve(error ? { error } : { reply }));
  });
}

async function failure(method: string, request: object): Promise<grpc.ServiceError> {
  const { error } = await call(method, request);
  if (!error) throw new Error(`${method} succeeded`);
  return error;
}

function statusDetails(error: grpc.ServiceError): Buffer | undefined {
  const [value] = error.metadata.get('grpc-status-details-bin');
  return value === undefined ? undefined : Buffer.from(value as Buffer);
}

beforeAll(async () => {
  sidecar = await startCompatSidecar({ appId: 'compat-grpc-errors' });
  stub = loadDaprStub(`127.0.0.1:${sidecar.weft.grpcPort}`);
});

afterAll(async () => {
  stub?.close();
  await sidecar?.close();
});

it('answers GetState on an unknown store with INVALID_ARGUMENT and an ErrorInfo DAPR_STATE_NOT_FOUND', async () => {
  const error = await failure('GetState', { store_name: 'no-such-store', key: 'k' });
  expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
  expect(error.details).toBe('state store no-such-store is not found');
  const details = statusDetails(error);
  expect(details).toBeDefined();
  const status = decodeStatus(details as Buffer);
  expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
  expect(status.message).toBe('state store no-such-store is not found');
  expect(status.details.map((d) => d.typeUrl)).toEqual(['type.googleapis.com/google.rpc.ErrorInfo']);
  expect(decodeErrorInfo(status.details[0]?.value ?? Buffer.alloc(0))).toEqual({
    reason: 'DAPR_STATE_NOT_FOUND',
    domain: 'dapr.io',
    metadata: { appID: 'compat-grpc-errors' },
  });
});

it('answers a key containing || with INVALID_ARGUMENT and an ErrorInfo DAPR_STATE_ILLEGAL_KEY', async () => {
  const error = await failure('GetState', { store_name: STORES.state, key: 'a||b' });
  expect(error.code).toBe(grpc.status.INVALID_ARGUMENT);
  expect(error.details).toBe("input key/keyPrefix 'a||b' can't contain '||'");
  const status = decodeStatus(statusDetails(error) ?? Buffer.alloc(0));
  expect(status.details).toHaveLength(1);
  expect(decodeErrorInfo(status.details[0]?.value ?? Buffer.alloc(0))).toEqual({ reason: 'DAPR_STATE_ILLEGAL_KEY', domain: 'dapr.io', metadata: {} });
});

it('answers SaveState with a stale etag with ABORTED and no rich details, keeping the newer value', async () => {
  const key = `stale-${process.pid}`;
  const save = (value: string, etag?: string) =>
    call('SaveState', {
      store_name: STORES.state,
      states: [{ key, value: Buffer.from(value), ...(etag ? { etag: { value: etag }, options: { concurrency: 'CONCURRENCY_FIRST_WRITE' } } : {}) }],
    });
  expect((await save('"v1"')).error).toBeUndefined();
  const first = (await call('GetState', { store_name: STORES.state, key })).reply as { etag: string };
  expect((await save('"v2"')).error).toBeUndefined();

  const { error } = await save('"v3"', first.etag);
  expect(error?.code).toBe(grpc.status.ABORTED);
  expect(error?.details).toMatch(/^failed saving state in state store statestore: /);
  // A legacy error without an ErrorInfo reason: daprd sends a plain status for it, and so does Weft.
  expect(error && statusDetails(error)).toBeUndefined();
  const now = (await call('GetState', { store_name: STORES.state, key })).reply as { data: Buffer };
  expect(Buffer.from(now.data).toString()).toBe('"v2"');
});

it('answers an RPC that Weft does not serve with UNIMPLEMENTED', async () => {
  // The conversation (LLM) API has no Weft block.
  const error = await failure('ConverseAlpha1', { name: 'llm', inputs: [] });
  expect(error.code).toBe(grpc.status.UNIMPLEMENTED);
});
