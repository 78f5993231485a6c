/**
 * `@dapr/dapr` service invocation in HTTP mode across two Weft processes: `server.invoker.listen` on
 * the callee app behind one `weft sidecar`, `client.invoker.invoke` through another.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CommunicationProtocolEnum, DaprClient, DaprServer, HttpMethod, LogLevel } from '@dapr/dapr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, startWeftSidecar } from '../support/weft-process.js';
import type { WeftProcess } from '../support/weft-process.js';

describe('@dapr/dapr invoker over HTTP across two Weft sidecars', () => {
  const callee = `sdk-callee-${process.pid}`;
  let registry: string;
  let calleeSidecar: WeftProcess;
  let callerSidecar: WeftProcess;
  let server: DaprServer;
  let client: DaprClient;

  beforeAll(async () => {
    registry = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-sdk-inv-'));
    const env = { WEFT_REGISTRY_DIR: registry };
    const appPort = await freePort();
    calleeSidecar = await startWeftSidecar(
      ['--app-id', callee, '--app-port', String(appPort), '--dapr-http-max-request-size', '20', '--data-dir', path.join(registry, 'callee')],
      { env },
    );
    callerSidecar = await startWeftSidecar(
      ['--app-id', `sdk-caller-${process.pid}`, '--dapr-http-max-request-size', '20', '--data-dir', path.join(registry, 'caller')],
      { env },
    );
    server = new DaprServer({
      serverHost: '127.0.0.1',
      serverPort: String(appPort),
      communicationProtocol: CommunicationProtocolEnum.HTTP,
      maxBodySizeMb: 20,
      clientOptions: { daprHost: '127.0.0.1', daprPort: String(calleeSidecar.httpPort), logger: { level: LogLevel.Error } },
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
      daprPort: String(callerSidecar.httpPort),
      communicationProtocol: CommunicationProtocolEnum.HTTP,
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
    await server?.stop().catch(() => {});
    await Promise.all([calleeSidecar?.stop(), callerSidecar?.stop()]);
    await fs.rm(registry, { recursive: true, force: true });
  });

  it('invokes a POST method with a JSON body and custom headers and parses the JSON answer', async () => {
    const result = await client.invoker.invoke(callee, 'hello-world', HttpMethod.POST, { hello: 'world' }, { headers: { 'x-foo': 'bar' } });
    expect(result).toEqual({ echo: JSON.stringify({ hello: 'world' }), query: '/hello-world', foo: 'bar' });
  });

  it('invokes a GET method with a query string', async () => {
    const result = await client.invoker.invoke(callee, 'hello-world?a=1&b=2', HttpMethod.GET);
    expect(result).toEqual({ method: 'GET', query: '/hello-world?a=1&b=2' });
  });

  it('carries a 5 MB payload through both sidecars', async () => {
    const payload = { data: 'x'.repeat(5 * 1024 * 1024) };
    const result = await client.invoker.invoke(callee, 'big', HttpMethod.POST, payload);
    expect(result).toEqual({ length: JSON.stringify(payload).length });
  });
});
