/**
 * `DAPR_API_TOKEN`: a sidecar started with it refuses SDK clients that do not send `dapr-api-token`
 * and serves those configured with `daprApiToken`, over HTTP and gRPC.
 *
 * A client without the token never gets past `client.start()` (it polls the metadata API for about
 * 30 s, then throws), so the refusal is observed through the SDK's own probe calls, which skip start.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CommunicationProtocolEnum, GRPCClient, HTTPClient } from '@dapr/dapr';
import { PROTOCOLS, STORES, sdkClient, startCompatSidecar } from './support/compat-env.js';
import type { CompatSidecar } from './support/compat-env.js';
import { sdkGrpcError, sdkHttpError, thrownBy } from './support/sdk-errors.js';
import * as grpcJs from '@grpc/grpc-js';
import { taskHubService } from '../../packages/runtime/src/api/grpc/protos.js';

const TOKEN = `token-${process.pid}`;
const GRPC_UNAUTHENTICATED = 16;

let sidecar: CompatSidecar;

beforeAll(async () => {
  sidecar = await startCompatSidecar({ appId: 'compat-token', stateType: 'state.in-memory', env: { DAPR_API_TOKEN: TOKEN } });
});

afterAll(async () => {
  await sidecar?.close();
});

it('refuses the HTTP SDK readiness probe without the token with 401 invalid api token', async () => {
  const client = sdkClient(sidecar.weft, CommunicationProtocolEnum.HTTP);
  const http = client.daprClient;
  if (!(http instanceof HTTPClient)) throw new Error('expected the HTTP client');
  // Exactly the call `client.start()` repeats until it gets a non-empty body.
  const err = sdkHttpError(await thrownBy(() => http.execute('/metadata', null, false)));
  // Plain text, not an error JSON: daprd answers with Go's http.Error(w, "invalid api token", 401).
  expect(err).toMatchObject({ status: 401, statusText: 'Unauthorized', text: 'invalid api token', body: undefined });
  await client.stop();
});

it('refuses the gRPC SDK readiness probe without the token with UNAUTHENTICATED', async () => {
  const client = sdkClient(sidecar.weft, CommunicationProtocolEnum.GRPC);
  const grpc = client.daprClient;
  if (!(grpc instanceof GRPCClient)) throw new Error('expected the gRPC client');
  const connect = await grpc.getClient(false);
  const err = sdkGrpcError(await thrownBy(() => connect.getMetadata({})));
  expect(err.code).toBe(GRPC_UNAUTHENTICATED);
  expect(err.rawMessage).toBe('invalid api token');
  await client.stop();
});

it('ends a workflow worker stream without the token with UNAUTHENTICATED, instead of leaving it open', async () => {
  const TaskHub = grpcJs.makeGenericClientConstructor(taskHubService(), 'TaskHubSidecarService');
  const client = new TaskHub(`127.0.0.1:${sidecar.weft.grpcPort}`, grpcJs.credentials.createInsecure());
  try {
    const stream = (client as unknown as { GetWorkItems(req: object): grpcJs.ClientReadableStream<unknown> }).GetWorkItems({});
    const err = await new Promise<grpcJs.ServiceError>((resolve) => {
      stream.on('error', resolve);
      stream.on('data', () => undefined);
    });
    expect(err.code).toBe(GRPC_UNAUTHENTICATED);
    expect(err.details).toBe('invalid api token');
  } finally {
    client.close();
  }
});

it('refuses a wrong token as it refuses none', async () => {
  const res = await fetch(`http://127.0.0.1:${sidecar.weft.httpPort}/v1.0/metadata`, { headers: { 'dapr-api-token': 'wrong' } });
  expect(res.status).toBe(401);
  expect(await res.text()).toBe('invalid api token');
});

it('leaves the outbound health probe open without a token', async () => {
  const res = await fetch(`http://127.0.0.1:${sidecar.weft.httpPort}/v1.0/healthz/outbound`);
  expect(res.status).toBe(204);
});

describe.each(PROTOCOLS)('a client with daprApiToken over $name', ({ name, protocol }) => {
  it('starts, reads metadata and round-trips state', async () => {
    const client = sdkClient(sidecar.weft, protocol, { apiToken: TOKEN });
    try {
      await client.start();
      expect((await client.metadata.get()).id).toBe('compat-token');
      const key = `token-${name}`;
      expect(await client.state.save(STORES.state, [{ key, value: { via: name } }])).toEqual({});
      expect(await client.state.get(STORES.state, key)).toEqual({ via: name });
    } finally {
      await client.stop();
    }
  });
});
