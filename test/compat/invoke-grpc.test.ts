/**
 * `@dapr/dapr` service invocation in gRPC mode across two Weft processes: `server.invoker.listen` on
 * the callee app behind one `weft sidecar`, `client.invoker.invoke` through another.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CommunicationProtocolEnum, DaprClient, DaprServer, HttpMethod, LogLevel } from '@dapr/dapr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startWeftSidecar } from '../support/weft-process.js';
import type { WeftProcess } from '../support/weft-process.js';

describe('@dapr/dapr invoker over gRPC across two Weft sidecars (InvokeService → AppCallback.OnInvoke)', () => {
  const callee = `sdk-gcallee-${process.pid}`;
  let registry: string;
  let calleeSidecar: WeftProcess;
  let callerSidecar: WeftProcess;
  let server: DaprServer;
  let client: DaprClient;

  beforeAll(async () => {
    registry = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-sdk-ginv-'));
    const env = { WEFT_REGISTRY_DIR: registry };
    const appPort = await freePort();
    calleeSidecar = await startWeftSidecar(
      ['--app-id', callee, '--app-port', String(appPort), '--app-protocol', 'grpc', '--dapr-http-max-request-size', '20', '--data-dir', path.join(registry, 'callee')],
      { env },
    );
    callerSidecar = await startWeftSidecar(
      ['--app-id', `sdk-gcaller-${process.pid}`, '--dapr-http-max-request-size', '20', '--data-dir', path.join(registry, 'caller')],
      { env },
    );
    server = new DaprServer({
      serverHost: '127.0.0.1',
      serverPort: String(appPort),
      communicationProtocol: CommunicationProtocolEnum.GRPC,
      maxBodySizeMb: 20,
      clientOptions: { daprHost: '127.0.0.1', daprPort: String(calleeSidecar.grpcPort), logger: { level: LogLevel.Error } },
      logger: { level: LogLevel.Error },
    });
    await server.invoker.listen('hello-world', async (data) => ({ echo: data.body, query: data.query, foo: data.headers?.['x-foo'] ?? null }), {
      method: HttpMethod.POST,
    });
    await server.invoker.listen('hello-world', async (data) => ({ method: 'GET', query: data.query }), { method: HttpMethod.GET });
    await server.invoker.listen('big', async (data) => ({ length: (data.body ?? '').length }), { method: HttpMethod.POST });
    await server.start();
    client = new DaprClient({
      daprHost: '127.0.0.1',
      daprPort: String(callerSidecar.grpcPort),
      communicationProtocol: CommunicationProtocolEnum.GRPC,
      maxBodySizeMb: 20,
      logger: { level: LogLevel.Error },
    });
    const deadline = Date.now() + 15_000;
    while ((await fetch(`http://127.0.0.1:${calleeSidecar.httpPort}/v1.0/healthz`)).status !== 204) {
      if (Date.now() > deadline) throw new Error('callee sidecar never saw the app');
      await new Promise((r) => setTimeout(r, 50));
    }
  }, 60_000);

  afterAll(async () => {
    // Sidecars first: the callee's app channel holds an HTTP/2 connection the app server would wait on.
    await Promise.all([calleeSidecar?.stop(), callerSidecar?.stop()]);
    await server?.stop().catch(() => {});
    await fs.rm(registry, { recursive: true, force: true });
  });

  it('invokes a POST method with a JSON body and parses the JSON answer', async () => {
    // In gRPC mode the SDK drops custom headers on the client and hands the handler no headers.
    const result = await client.invoker.invoke(callee, 'hello-world', HttpMethod.POST, { hello: 'world' }, { headers: { 'x-foo': 'bar' } });
    expect(result).toEqual({ echo: JSON.stringify({ hello: 'world' }), query: '', foo: null });
  });

  it('invokes a GET method with a query string', async () => {
    const result = await client.invoker.invoke(callee, 'hello-world?a=1&b=2', HttpMethod.GET);
    // The SDK's gRPC server hands the handler `http_extension.querystring`.
    expect(result).toEqual({ method: 'GET', query: 'a=1&b=2' });
  });

  it('carries a 5 MB payload through both sidecars', async () => {
    const payload = { data: 'x'.repeat(5 * 1024 * 1024) };
    const result = await client.invoker.invoke(callee, 'big', HttpMethod.POST, payload);
    expect(result).toEqual({ length: JSON.stringify(payload).length });
  });

  it('lets a plain HTTP caller invoke the gRPC app through both sidecars', async () => {
    const res = await fetch(`http://127.0.0.1:${callerSidecar.httpPort}/v1.0/invoke/${callee}/method/hello-world`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ via: 'http' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ echo: JSON.stringify({ via: 'http' }), query: '', foo: null });
  });
});
