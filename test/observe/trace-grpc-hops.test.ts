/**
 * One trace across two sidecars on the gRPC side: a gRPC client calls sidecar A's `InvokeService`
 * (W3C `traceparent` metadata) and, separately, a custom gRPC method proxied with `dapr-app-id`
 * (binary `grpc-trace-bin` metadata); both reach a gRPC app behind sidecar B. Each hop's span must be
 * the parent of the next, and the app must receive the last one in both encodings.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { startZipkinCollector } from '../support/zipkin-collector.js';
import type { ZipkinCollector, ZipkinSpan } from '../support/zipkin-collector.js';
import { zipkinTracingConfig } from '../support/resources.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadDaprRuntimePackage } from '../../packages/runtime/src/api/grpc/protos.js';
import { fromGrpcTraceBin, toGrpcTraceBin } from '../../packages/runtime/src/observability/trace-context.js';
import { startTestSidecar } from '../support/in-process.js';
import type { TestSidecar } from '../support/in-process.js';
import { daprGrpcClient } from '../support/grpc-client.js';
import { eventually } from '../support/subscriber-app.js';


const id = `gtrace${process.pid}`;
const [A, B] = [`${id}-a`, `${id}-b`];
let spans: ZipkinSpan[] = [];
/** Metadata the gRPC app received, per method. */
const received: { method: string; traceparent: string; traceBin: Buffer | undefined }[] = [];
let zipkin: ZipkinCollector;
let app: grpc.Server;
let registry: string;
let a: TestSidecar;
let b: TestSidecar;

const identity = { serialize: (b: Buffer) => b, deserialize: (b: Buffer) => b };
const ECHO: grpc.ServiceDefinition = {
  Say: {
    path: '/weft.test.Echo/Say',
    requestStream: false,
    responseStream: false,
    requestSerialize: identity.serialize,
    requestDeserialize: identity.deserialize,
    responseSerialize: identity.serialize,
    responseDeserialize: identity.deserialize,
  },
};

function record(method: string, metadata: grpc.Metadata): void {
  const [traceparent] = metadata.get('traceparent');
  const [bin] = metadata.get('grpc-trace-bin');
  received.push({ method, traceparent: String(traceparent ?? ''), traceBin: Buffer.isBuffer(bin) ? bin : undefined });
}

beforeAll(async () => {
  zipkin = await startZipkinCollector();
  spans = zipkin.spans;

  const runtime = (loadDaprRuntimePackage() as unknown as { dapr: { proto: { runtime: { v1: Record<string, { service: grpc.ServiceDefinition }> } } } }).dapr.proto.runtime.v1;
  app = new grpc.Server();
  app.addService(runtime['AppCallback']!.service, {
    OnInvoke: (call: grpc.ServerUnaryCall<{ method: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      record(call.request.method, call.metadata);
      cb(null, { data: { type_url: '', value: Buffer.from('done') }, content_type: 'text/plain' });
    },
    ListTopicSubscriptions: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, { subscriptions: [] }),
    ListInputBindings: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, { bindings: [] }),
    OnTopicEvent: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, {}),
    OnBindingEvent: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, {}),
  });
  app.addService(ECHO, {
    Say: (call: grpc.ServerUnaryCall<Buffer, Buffer>, cb: grpc.sendUnaryData<Buffer>) => {
      record('Say', call.metadata);
      cb(null, Buffer.concat([Buffer.from('echo:'), call.request]));
    },
  });
  const appPort = await new Promise<number>((resolve, reject) =>
    app.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );

  registry = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-gtrace-'));
  const config = path.join(registry, 'config.yaml');
  await fs.writeFile(
    config,
    zipkinTracingConfig(zipkin.endpoint),
  );
  const env = { WEFT_REGISTRY_DIR: registry };
  b = await startTestSidecar({ appId: B, env, appPort, appProtocol: 'grpc', configPath: config });
  a = await startTestSidecar({ appId: A, env, configPath: config });
  await eventually(() => b.sidecar.health.ready(), 10_000, 'sidecar B sees its gRPC app');
}, 60_000);

afterAll(async () => {
  await Promise.all([a?.stop(), b?.stop()]);
  app?.forceShutdown();
  await zipkin?.close();
  if (registry) await fs.rm(registry, { recursive: true, force: true });
});

/** The chain A (server) → A (client) → B (server) → B (client) under `parentId`, named `name`. */
async function chain(traceId: string, name: string, parentId: string): Promise<ZipkinSpan[]> {
  await eventually(() => spans.filter((s) => s.traceId === traceId).length >= 4, 10_000, 'four spans in the trace');
  const inTrace = spans.filter((s) => s.traceId === traceId);
  const one = (service: string, kind: string, parent: string) => {
    const found = inTrace.filter((s) => s.localEndpoint.serviceName === service && s.kind === kind && s.name === name && s.parentId === parent);
    expect(found, `${service} ${kind} ${name} under ${parent}`).toHaveLength(1);
    return found[0]!;
  };
  const aServer = one(A, 'SERVER', parentId);
  const aClient = one(A, 'CLIENT', aServer.id);
  const bServer = one(B, 'SERVER', aClient.id);
  const bClient = one(B, 'CLIENT', bServer.id);
  return [aServer, aClient, bServer, bClient];
}

it('links InvokeService from a gRPC client through both sidecars to the gRPC app, each span the parent of the next', async () => {
  const traceId = 'c0ffee00c0ffee00c0ffee00c0ffee01';
  const client = daprGrpcClient(a.sidecar.grpcPort);
  const outcome = await client.call(
    'InvokeService',
    { id: B, message: { method: 'work', data: { type_url: '', value: Buffer.from('x') }, content_type: 'text/plain', http_extension: { verb: 'POST' } } },
    { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
  );
  client.close();
  expect(outcome.error).toBeUndefined();
  const [aServer, , , bClient] = await chain(traceId, `CallLocal/${B}/work`, '00f067aa0ba902b7');
  expect(aServer!.tags).toMatchObject({ 'dapr.api': '/dapr.proto.runtime.v1.Dapr/InvokeService', 'dapr.protocol': 'grpc', 'rpc.service': 'ServiceInvocation', 'net.peer.name': B });
  // The app got B's CLIENT span as W3C metadata and as daprd's binary context.
  const got = received.find((r) => r.method === 'work');
  expect(got?.traceparent).toBe(`00-${traceId}-${bClient!.id}-01`);
  expect(fromGrpcTraceBin(got?.traceBin)).toEqual({ traceId, spanId: bClient!.id, sampled: true });
});

it('links a proxied gRPC call (dapr-app-id, grpc-trace-bin in) through both sidecars to the gRPC app', async () => {
  const traceId = 'c0ffee00c0ffee00c0ffee00c0ffee02';
  const parentSpan = '1111222233334444';
  const raw = new grpc.Client(`127.0.0.1:${a.sidecar.grpcPort}`, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  metadata.set('dapr-app-id', B);
  metadata.set('grpc-trace-bin', toGrpcTraceBin({ traceId, spanId: parentSpan, sampled: true }));
  const reply = await new Promise<Buffer>((resolve, reject) =>
    raw.makeUnaryRequest('/weft.test.Echo/Say', identity.serialize, identity.deserialize, Buffer.from('hi'), metadata, (err, value) => (err ? reject(err) : resolve(value!))),
  );
  raw.close();
  expect(reply.toString()).toBe('echo:hi');
  const [, , , bClient] = await chain(traceId, '/weft.test.Echo/Say', parentSpan);
  const got = received.find((r) => r.method === 'Say');
  expect(got?.traceparent).toBe(`00-${traceId}-${bClient!.id}-01`);
  expect(fromGrpcTraceBin(got?.traceBin)?.spanId).toBe(bClient!.id);
});

it('answers a gRPC API call with its span as grpc-trace-bin response metadata', async () => {
  const traceId = 'c0ffee00c0ffee00c0ffee00c0ffee03';
  const runtime = (loadDaprRuntimePackage() as unknown as { dapr: { proto: { runtime: { v1: Record<string, grpc.ServiceClientConstructor> } } } }).dapr.proto.runtime.v1;
  const client = new runtime['Dapr']!(`127.0.0.1:${a.sidecar.grpcPort}`, grpc.credentials.createInsecure()) as grpc.Client & Record<string, grpc.MethodDefinition<unknown, unknown> & ((...args: unknown[]) => grpc.ClientUnaryCall)>;
  const metadata = new grpc.Metadata();
  metadata.set('traceparent', `00-${traceId}-00f067aa0ba902b7-01`);
  const headers = await new Promise<grpc.Metadata>((resolve, reject) => {
    const call = client['GetMetadata']!({}, metadata, (err: grpc.ServiceError | null) => {
      if (err) reject(err);
    });
    call.on('metadata', resolve);
  });
  client.close();
  const [bin] = headers.get('grpc-trace-bin');
  const context = fromGrpcTraceBin(bin as Buffer);
  expect(context?.traceId).toBe(traceId);
  await eventually(() => spans.some((s) => s.id === context?.spanId), 10_000, 'the GetMetadata span exported');
  expect(spans.find((s) => s.id === context?.spanId)).toMatchObject({ name: '/dapr.proto.runtime.v1.Dapr/GetMetadata', parentId: '00f067aa0ba902b7', kind: 'SERVER' });
});
