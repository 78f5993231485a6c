/**
 * gRPC metrics of calls the sidecar makes, on the Prometheus endpoints of two in-process sidecars:
 * `AppCallback` calls to a gRPC app (`dapr_grpc_io_client_*` with sizes) and calls proxied by
 * `dapr-app-id`, counted as server calls on the caller's sidecar and client calls on the callee's.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDaprRuntimePackage } from '../../packages/runtime/src/api/grpc/protos.js';
import { startTestSidecar } from '../support/in-process.js';
import type { TestSidecar } from '../support/in-process.js';
import { eventually } from '../support/subscriber-app.js';

const PROTO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/invoke/greeter.proto');
type Reply = { message: string };
type Unary = (req: { name: string }, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res?: Reply) => void) => void;
type Greeter = grpc.Client & { SayHello: Unary; Fail: Unary };
type Json = Record<string, unknown>;

const Greeter = (grpc.loadPackageDefinition(protoLoader.loadSync(PROTO)) as unknown as { weft: { test: { Greeter: grpc.ServiceClientConstructor } } }).weft.test
  .Greeter;
const v1 = (loadDaprRuntimePackage() as unknown as { dapr: { proto: { runtime: { v1: Record<string, { service: grpc.ServiceDefinition }> } } } }).dapr.proto.runtime
  .v1;

const CALLER = `gm${process.pid}-caller`;
const CALLEE = `gm${process.pid}-callee`;
let registry: string;
let app: grpc.Server;
let caller: TestSidecar;
let callee: TestSidecar;
let callerText: string;
let calleeText: string;

/** A gRPC app: `AppCallback` (OnInvoke echoes, `missing` is NOT_FOUND) and the Greeter to proxy to. */
async function startApp(): Promise<number> {
  app = new grpc.Server();
  app.addService(v1['AppCallback']!.service, {
    OnInvoke: (call: grpc.ServerUnaryCall<Json, Json>, cb: grpc.sendUnaryData<Json>) => {
      if (call.request['method'] === 'missing') {
        cb({ code: grpc.status.NOT_FOUND, details: 'no such method' });
        return;
      }
      const data = call.request['data'] as { value?: Buffer } | undefined;
      cb(null, { data: { type_url: '', value: Buffer.concat([Buffer.from('echo:'), data?.value ?? Buffer.alloc(0)]) }, content_type: 'text/plain' });
    },
    ListTopicSubscriptions: (_call: unknown, cb: grpc.sendUnaryData<Json>) => cb(null, { subscriptions: [] }),
    ListInputBindings: (_call: unknown, cb: grpc.sendUnaryData<Json>) => cb(null, { bindings: [] }),
  });
  app.addService(Greeter.service, {
    SayHello: (c: grpc.ServerUnaryCall<{ name: string }, Reply>, cb: grpc.sendUnaryData<Reply>) => cb(null, { message: `hello ${c.request.name}` }),
    Fail: (_c: unknown, cb: grpc.sendUnaryData<Reply>) => cb({ code: grpc.status.FAILED_PRECONDITION, details: 'not today' }),
  });
  return new Promise<number>((resolve, reject) =>
    app.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
  );
}

const scrape = async (s: TestSidecar) => (await fetch(`http://127.0.0.1:${s.sidecar.metricsPort}/`)).text();

beforeAll(async () => {
  registry = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-metrics-grpc-'));
  const env = { WEFT_REGISTRY_DIR: registry };
  const appPort = await startApp();
  caller = await startTestSidecar({ appId: CALLER, env, metricsPort: 0 });
  callee = await startTestSidecar({ appId: CALLEE, env, appPort, appProtocol: 'grpc', metricsPort: 0 });
  await eventually(() => callee.sidecar.health.ready());

  // Service invocation over the caller's HTTP API: the callee's sidecar calls OnInvoke on its app.
  const ok = await fetch(`${caller.baseUrl}/v1.0/invoke/${CALLEE}/method/echo`, { method: 'POST', body: 'ping', headers: { 'content-type': 'text/plain' } });
  expect(await ok.text()).toBe('echo:ping');
  const missing = await fetch(`${caller.baseUrl}/v1.0/invoke/${CALLEE}/method/missing`, { method: 'POST', body: 'x' });
  expect(missing.status).toBe(404);

  // gRPC proxying through both sidecars.
  const client = new Greeter(`127.0.0.1:${caller.sidecar.grpcPort}`, grpc.credentials.createInsecure()) as unknown as Greeter;
  const md = () => {
    const m = new grpc.Metadata();
    m.set('dapr-app-id', CALLEE);
    return m;
  };
  await new Promise<void>((resolve, reject) => client.SayHello({ name: 'weft' }, md(), (err) => (err ? reject(err) : resolve())));
  const failed = await new Promise<grpc.ServiceError | null>((resolve) => client.Fail({ name: 'weft' }, md(), (err) => resolve(err)));
  expect(failed?.code).toBe(grpc.status.FAILED_PRECONDITION);
  client.close();
  // A proxied stream is recorded when it closes, which may follow the client's answer by a moment.
  await eventually(async () => (await scrape(caller)).includes('grpc_server_status="FailedPrecondition"'));
  await eventually(async () => (await scrape(callee)).includes('grpc_client_status="FailedPrecondition"'));
  [callerText, calleeText] = await Promise.all([scrape(caller), scrape(callee)]);
});

afterAll(async () => {
  await Promise.all([caller?.stop(), callee?.stop()]);
  app?.forceShutdown();
  await fs.rm(registry, { recursive: true, force: true });
});

describe('gRPC client metrics of AppCallback calls', () => {
  const onInvoke = 'grpc_client_method="/dapr.proto.runtime.v1.AppCallback/OnInvoke"';

  it('count each call to the gRPC app by method and Go status name', () => {
    expect(calleeText).toContain(`dapr_grpc_io_client_completed_rpcs{app_id="${CALLEE}",${onInvoke},grpc_client_status="OK"} 1`);
    expect(calleeText).toContain(`dapr_grpc_io_client_completed_rpcs{app_id="${CALLEE}",${onInvoke},grpc_client_status="NotFound"} 1`);
    expect(calleeText).toContain(`dapr_grpc_io_client_roundtrip_latency_count{app_id="${CALLEE}",${onInvoke},grpc_client_status="OK"} 1`);
  });

  it('record request and response sizes by method only', () => {
    const sent = new RegExp(`dapr_grpc_io_client_sent_bytes_per_rpc_sum\\{app_id="${CALLEE}",${onInvoke.replaceAll('/', '\\/')}\\} (\\d+)`).exec(calleeText);
    const received = new RegExp(`dapr_grpc_io_client_received_bytes_per_rpc_sum\\{app_id="${CALLEE}",${onInvoke.replaceAll('/', '\\/')}\\} (\\d+)`).exec(calleeText);
    // Two calls each way; both requests carried a body, one answer carried "echo:ping".
    expect(Number(sent?.[1])).toBeGreaterThan('pingx'.length);
    expect(Number(received?.[1])).toBeGreaterThanOrEqual('echo:ping'.length);
    expect(calleeText).toContain(`dapr_grpc_io_client_sent_bytes_per_rpc_count{app_id="${CALLEE}",${onInvoke}} 2`);
  });

  it('are not recorded by a sidecar without a gRPC app', () => {
    expect(callerText).not.toContain('dapr_grpc_io_client_completed_rpcs{');
  });
});

describe('metrics of calls proxied by dapr-app-id', () => {
  const sayHello = '/weft.test.Greeter/SayHello';
  const fail = '/weft.test.Greeter/Fail';

  it('count as server calls on the caller’s sidecar, with status and latency', () => {
    expect(callerText).toContain(`dapr_grpc_io_server_completed_rpcs{app_id="${CALLER}",grpc_server_method="${sayHello}",grpc_server_status="OK"} 1`);
    expect(callerText).toContain(`dapr_grpc_io_server_completed_rpcs{app_id="${CALLER}",grpc_server_method="${fail}",grpc_server_status="FailedPrecondition"} 1`);
    expect(callerText).toContain(`dapr_grpc_io_server_server_latency_count{app_id="${CALLER}",grpc_server_method="${sayHello}"} 1`);
  });

  it('count as client calls on the callee’s sidecar, without sizes', () => {
    expect(calleeText).toContain(`dapr_grpc_io_client_completed_rpcs{app_id="${CALLEE}",grpc_client_method="${sayHello}",grpc_client_status="OK"} 1`);
    expect(calleeText).toContain(`dapr_grpc_io_client_completed_rpcs{app_id="${CALLEE}",grpc_client_method="${fail}",grpc_client_status="FailedPrecondition"} 1`);
    expect(calleeText).not.toContain(`dapr_grpc_io_client_sent_bytes_per_rpc_count{app_id="${CALLEE}",grpc_client_method="${sayHello}"}`);
    // The callee's sidecar is not the server of a proxied call.
    expect(calleeText).not.toContain(`grpc_server_method="${sayHello}"`);
  });
});
