/**
 * Two real `weft sidecar` processes for the `@dapr/dapr` invocation tests: a callee whose app is a
 * `DaprServer` with `invoker.listen` handlers, and a caller used by a `DaprClient` — in HTTP or gRPC
 * mode. The tests of both protocols share this setup and differ only in what they assert.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CommunicationProtocolEnum, DaprClient, DaprServer, HttpMethod, LogLevel } from '@dapr/dapr';
import { freePort, startWeftSidecar } from '../../support/weft-process.js';
import type { WeftProcess } from '../../support/weft-process.js';

/** A running caller/callee pair. */
export interface InvokePair {
  callee: string;
  calleeSidecar: WeftProcess;
  callerSidecar: WeftProcess;
  server: DaprServer;
  client: DaprClient;
  stop(): Promise<void>;
}

/** Starts both sidecars, the callee app and the client, and waits until the callee sees its app. */
export async function startInvokePair(protocol: 'http' | 'grpc'): Promise<InvokePair> {
  const grpc = protocol === 'grpc';
  const tag = grpc ? 'g' : '';
  const callee = `sdk-${tag}callee-${process.pid}`;
  const registry = await fs.mkdtemp(path.join(os.tmpdir(), `weft-sdk-${tag}inv-`));
  const env = { WEFT_REGISTRY_DIR: registry };
  const appPort = await freePort();
  const communicationProtocol = grpc ? CommunicationProtocolEnum.GRPC : CommunicationProtocolEnum.HTTP;
  const portOf = (p: WeftProcess) => String(grpc ? p.grpcPort : p.httpPort);
  const calleeSidecar = await startWeftSidecar(
    ['--app-id', callee, '--app-port', String(appPort), ...(grpc ? ['--app-protocol', 'grpc'] : []),
      '--dapr-http-max-request-size', '20', '--data-dir', path.join(registry, 'callee')],
    { env },
  );
  const callerSidecar = await startWeftSidecar(
    ['--app-id', `sdk-${tag}caller-${process.pid}`, '--dapr-http-max-request-size', '20', '--data-dir', path.join(registry, 'caller')],
    { env },
  );
  const server = new DaprServer({
    serverHost: '127.0.0.1',
    serverPort: String(appPort),
    communicationProtocol,
    maxBodySizeMb: 20,
    clientOptions: { daprHost: '127.0.0.1', daprPort: portOf(calleeSidecar), logger: { level: LogLevel.Error } },
    logger: { level: LogLevel.Error },
  });
  await server.invoker.listen('hello-world', async (data) => ({ echo: data.body, query: data.query, foo: data.headers?.['x-foo'] ?? null }), {
    method: HttpMethod.POST,
  });
  await server.invoker.listen('hello-world', async (data) => ({ method: 'GET', query: data.query }), { method: HttpMethod.GET });
  await server.invoker.listen('big', async (data) => ({ length: (data.body ?? '').length }), { method: HttpMethod.POST });
  await server.start();
  const client = new DaprClient({
    daprHost: '127.0.0.1',
    daprPort: portOf(callerSidecar),
    communicationProtocol,
    maxBodySizeMb: 20,
    logger: { level: LogLevel.Error },
  });
  const deadline = Date.now() + 15_000;
  while ((await fetch(`http://127.0.0.1:${calleeSidecar.httpPort}/v1.0/healthz`)).status !== 204) {
    if (Date.now() > deadline) throw new Error('callee sidecar never saw the app');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    callee,
    calleeSidecar,
    callerSidecar,
    server,
    client,
    stop: async () => {
      // Sidecars first: a gRPC callee's app channel holds an HTTP/2 connection the app server would wait on.
      await Promise.all([calleeSidecar.stop(), callerSidecar.stop()]);
      await server.stop().catch(() => {});
      await fs.rm(registry, { recursive: true, force: true });
    },
  };
}
