/**
 * Property-based fuzzing of every unary method of `dapr.proto.runtime.v1.Dapr` with fast-check:
 * random protobuf bytes (mostly malformed) and random well-typed requests. No call may fail from a
 * crash (an unexpected exception surfaces as INTERNAL "internal error: …"), the sidecar keeps
 * serving, and a value stored before the run is unchanged.
 */
import * as grpc from '@grpc/grpc-js';
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { daprService } from '../../packages/runtime/src/api/grpc/protos.js';
import { startObservedSidecar } from './observe-env.js';
import type { ObservedSidecar } from './observe-env.js';

const MEMORY_STORE = `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: memstore}\nspec: {type: state.in-memory, version: v1}\n`;
const SENTINEL = { key: 'fuzz~sentinel~9c1d', value: '"do-not-touch"' };
const RUNS = 25;
/**
 * How long a call may take. A random actor type is hosted nowhere, and InvokeActor then looks it up
 * again under daprd's built-in (protected) DaprBuiltInActorNotFoundRetries for about five seconds
 * before answering; its deadline cuts that short, since the wait is not what this test is about (a
 * DEADLINE_EXCEEDED is not a crash).
 */
const deadlineMs = (name: string) => (name === 'InvokeActor' ? 250 : 5000);

let s: ObservedSidecar;
let client: grpc.Client;
const definition = daprService('dapr.proto.runtime.v1.Dapr');
// Shutdown would end the run; its own tests cover it.
const unary = Object.entries(definition).filter(([name, m]) => !m.requestStream && !m.responseStream && name !== 'Shutdown');

beforeAll(async () => {
  s = await startObservedSidecar({ resources: [MEMORY_STORE], logLevel: 'error' });
  await fetch(`${s.baseUrl}/v1.0/state/memstore`, { method: 'POST', body: JSON.stringify([{ key: SENTINEL.key, value: 'do-not-touch' }]) });
  client = new grpc.Client(`127.0.0.1:${s.sidecar.grpcPort}`, grpc.credentials.createInsecure());
});

afterAll(async () => {
  client?.close();
  await s?.stop();
});

function callRaw(path: string, payload: Buffer, timeoutMs: number): Promise<grpc.ServiceError | null> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(
      path,
      (b: Buffer) => b,
      (b: Buffer) => b,
      payload,
      { deadline: Date.now() + timeoutMs },
      (err) => resolve(err),
    );
  });
}

function callTyped(name: string, request: unknown): Promise<grpc.ServiceError | null> {
  const method = definition[name];
  if (!method) throw new Error(name);
  let payload: Buffer;
  try {
    payload = method.requestSerialize(request);
  } catch {
    return Promise.resolve(null); // the generator made something protobuf cannot encode; nothing was sent
  }
  return callRaw(method.path, payload, deadlineMs(name));
}

const crashed = (err: grpc.ServiceError | null) =>
  err !== null && (err.code === grpc.status.UNKNOWN || (err.code === grpc.status.INTERNAL && err.details.startsWith('internal error:')));

const field = fc.oneof(fc.string(), fc.integer(), fc.boolean(), fc.constant(null), fc.uint8Array({ maxLength: 32 }).map((a) => Buffer.from(a)));
const request = fc.record(
  {
    store_name: fc.oneof(fc.constant('memstore'), fc.string()),
    storeName: fc.oneof(fc.constant('memstore'), fc.string()),
    key: fc.string(),
    keys: fc.array(fc.string(), { maxLength: 4 }),
    parallelism: fc.integer(),
    states: fc.array(fc.record({ key: fc.string(), value: fc.uint8Array({ maxLength: 16 }).map((a) => Buffer.from(a)) }), { maxLength: 3 }),
    operations: fc.array(fc.record({ operationType: fc.string(), request: fc.option(fc.record({ key: fc.string() })) }), { maxLength: 3 }),
    query: fc.oneof(fc.string(), fc.json()),
    metadata: fc.dictionary(fc.string(), fc.string(), { maxKeys: 3 }),
    value: fc.string(),
    name: fc.string(),
    data: field,
  },
  { requiredKeys: [] },
);

it.each(unary.map(([name]) => name))('survives random bytes and random requests on %s', async (name) => {
  const path = definition[name]?.path ?? '';
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 64 }), async (bytes) => {
      expect(crashed(await callRaw(path, Buffer.from(bytes), deadlineMs(name)))).toBe(false);
    }),
    { numRuns: RUNS },
  );
  await fc.assert(
    fc.asyncProperty(request, async (req) => {
      const err = await callTyped(name, req);
      if (crashed(err)) throw new Error(`${name} crashed on ${JSON.stringify(req)}: ${err?.details}`);
    }),
    { numRuns: RUNS },
  );
});

it('keeps serving and leaves the stored value untouched after the fuzzing', async () => {
  expect((await fetch(`${s.baseUrl}/v1.0/healthz`)).status).toBe(204);
  expect(await (await fetch(`${s.baseUrl}/v1.0/state/memstore/${encodeURIComponent(SENTINEL.key)}`)).text()).toBe(SENTINEL.value);
});
