/**
 * Transport hardening of the HTTP and gRPC APIs: slow clients are cut off, oversized headers and
 * bodies are refused, and `dapr-api-token` guards every API but health on both protocols.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { daprGrpcClient } from '../support/grpc-client.js';
import { startObservedSidecar } from './observe-env.js';
import type { ObservedSidecar } from './observe-env.js';

const MEMORY_STORE = `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: memstore}\nspec: {type: state.in-memory, version: v1}\n`;

/** Opens a raw connection; resolves with what the server sent before it closed (or after `ms`). */
function rawExchange(port: number, send: (socket: net.Socket) => void, ms = 10_000): Promise<{ data: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    let data = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ data, closed: false });
    }, ms);
    socket.on('data', (d: Buffer) => (data += d.toString()));
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ data, closed: true });
    });
    socket.on('error', () => {});
    socket.on('connect', () => send(socket));
  });
}

describe('slow and oversized requests', () => {
  let s: ObservedSidecar;
  beforeAll(async () => {
    s = await startObservedSidecar({ resources: [MEMORY_STORE], httpHeadersTimeoutMs: 300, maxRequestBodyBytes: 1024, maxHeaderBytes: 4096 });
  });
  afterAll(() => s.stop());

  it('cuts off a client that sends its headers byte by byte (slowloris) with 408', async () => {
    const request = 'GET /v1.0/state/memstore/k HTTP/1.1\r\nHost: x\r\nX-Slow: ' + 'a'.repeat(200);
    let timer: NodeJS.Timeout | undefined;
    const result = await rawExchange(s.sidecar.httpPort, (socket) => {
      let i = 0;
      timer = setInterval(() => {
        if (socket.destroyed || i >= request.length) return clearInterval(timer);
        socket.write(request[i++] ?? '');
      }, 20);
    });
    clearInterval(timer);
    expect(result.closed).toBe(true);
    expect(result.data).toMatch(/^HTTP\/1\.1 408/);
  });

  it('refuses a header block larger than the limit with 431', async () => {
    const res = await fetch(`${s.baseUrl}/v1.0/state/memstore/k`, { headers: { 'x-big': 'a'.repeat(8192) } });
    expect(res.status).toBe(431);
  });

  it('refuses a body larger than the limit with 413 ERR_BODY_READ', async () => {
    const res = await fetch(`${s.baseUrl}/v1.0/state/memstore`, { method: 'POST', body: JSON.stringify([{ key: 'k', value: 'a'.repeat(2048) }]) });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { errorCode: string }).errorCode).toBe('ERR_BODY_READ');
  });

  it('still serves normal requests after refusing bad ones', async () => {
    expect((await fetch(`${s.baseUrl}/v1.0/state/memstore/k`)).status).toBe(204);
  });
});

describe('dapr-api-token', () => {
  let s: ObservedSidecar;
  beforeAll(async () => {
    s = await startObservedSidecar({ resources: [MEMORY_STORE], apiToken: 'tok-123', metricsPort: 0 });
  });
  afterAll(() => s.stop());

  it('answers 401 invalid api token on state routes without or with a wrong token, and serves with the right one', async () => {
    for (const headers of [{}, { 'dapr-api-token': 'nope' }] as Record<string, string>[]) {
      const res = await fetch(`${s.baseUrl}/v1.0/state/memstore/k`, { headers });
      expect(res.status).toBe(401);
      expect(await res.text()).toBe('invalid api token');
    }
    expect((await fetch(`${s.baseUrl}/v1.0/state/memstore/k`, { headers: { 'dapr-api-token': 'tok-123' } })).status).toBe(204);
  });

  it('leaves both health endpoints open', async () => {
    expect((await fetch(`${s.baseUrl}/v1.0/healthz`)).status).toBe(204);
    expect((await fetch(`${s.baseUrl}/v1.0/healthz/outbound`)).status).toBe(204);
  });

  it('answers UNAUTHENTICATED on gRPC state calls without the token and serves them with it', async () => {
    const client = daprGrpcClient(s.sidecar.grpcPort);
    try {
      expect((await client.call('GetState', { store_name: 'memstore', key: 'k' })).error?.code).toBe(16);
      expect((await client.call('SaveState', { store_name: 'memstore', states: [] }, { 'dapr-api-token': 'wrong' })).error?.code).toBe(16);
      expect((await client.call('GetState', { store_name: 'memstore', key: 'k' }, { 'dapr-api-token': 'tok-123' })).error).toBeUndefined();
    } finally {
      client.close();
    }
  });

  it('counts refused calls in the metrics with status 401', async () => {
    expect(await s.sidecar.metrics?.render()).toMatch(/dapr_http_server_request_count\{app_id="observe-app",method="GET",path="\/v1.0\/state\/memstore",status="401"\} 2/);
  });
});
