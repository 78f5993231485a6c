/**
 * gRPC proxying by `dapr-app-id`: a plain gRPC client calls its own sidecar, which forwards to the
 * target's sidecar and on to the target's gRPC app; status codes, metadata and server streams pass.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSidecar } from '../support/in-process.js';
import type { TestSidecar } from '../support/in-process.js';

const PROTO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/invoke/greeter.proto');
type Reply = { message: string };
type Unary = (req: { name: string }, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res?: Reply) => void) => void;
type Client = grpc.Client & { SayHello: Unary; Fail: Unary; Count: (req: { name: string }, md: grpc.Metadata) => grpc.ClientReadableStream<Reply> };

const pkg = grpc.loadPackageDefinition(protoLoader.loadSync(PROTO)) as unknown as {
  weft: { test: { Greeter: grpc.ServiceClientConstructor } };
};
const Greeter = pkg.weft.test.Greeter;

function call(client: Client, method: 'SayHello' | 'Fail', metadata: grpc.Metadata): Promise<Reply> {
  return new Promise((resolve, reject) => client[method]({ name: 'weft' }, metadata, (err, res) => (err ? reject(err) : resolve(res as Reply))));
}

describe('gRPC proxying by dapr-app-id', () => {
  const A = `gp${process.pid}-a`;
  const B = `gp${process.pid}-b`;
  let registry: string;
  let app: grpc.Server;
  let a: TestSidecar;
  let b: TestSidecar;
  let client: Client;
  const md = (target: string, extra: Record<string, string> = {}) => {
    const m = new grpc.Metadata();
    m.set('dapr-app-id', target);
    for (const [k, v] of Object.entries(extra)) m.set(k, v);
    return m;
  };

  beforeAll(async () => {
    registry = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-gp-'));
    const env = { WEFT_REGISTRY_DIR: registry };
    app = new grpc.Server();
    app.addService(Greeter.service, {
      SayHello: (c: grpc.ServerUnaryCall<{ name: string }, Reply>, cb: grpc.sendUnaryData<Reply>) =>
        cb(null, { message: `hello ${c.request.name} from ${String(c.metadata.get('dapr-caller-app-id')[0])} x-foo=${String(c.metadata.get('x-foo')[0])}` }),
      Fail: (_c: unknown, cb: grpc.sendUnaryData<Reply>) => cb({ code: grpc.status.FAILED_PRECONDITION, details: 'not today' }),
      Count: (c: grpc.ServerWritableStream<{ name: string }, Reply>) => {
        for (let i = 1; i <= 3; i++) c.write({ message: `${c.request.name} ${i}` });
        c.end();
      },
    });
    const appPort = await new Promise<number>((resolve, reject) =>
      app.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
    );
    const config = path.join(registry, 'config.yaml');
    await fs.writeFile(
      config,
      `kind: Configuration\napiVersion: dapr.io/v1alpha1\nmetadata: {name: c}\nspec:\n  accessControl:\n    defaultAction: allow\n    policies:\n    - appId: ${A}\n      operations: [{name: /weft.test.Greeter/Count, action: deny}]\n`,
    );
    a = await startTestSidecar({ appId: A, env });
    b = await startTestSidecar({ appId: B, env, appPort, appProtocol: 'grpc', configPath: config });
    const deadline = Date.now() + 10_000;
    while (!b.sidecar.health.ready() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    client = new Greeter(`127.0.0.1:${a.sidecar.grpcPort}`, grpc.credentials.createInsecure()) as unknown as Client;
  });

  afterAll(async () => {
    client?.close();
    await Promise.all([a?.stop(), b?.stop()]);
    app?.forceShutdown();
    await fs.rm(registry, { recursive: true, force: true });
  });

  it('proxies a unary call through both sidecars with the caller id and custom metadata', async () => {
    await expect(call(client, 'SayHello', md(B, { 'x-foo': 'bar' }))).resolves.toEqual({ message: `hello weft from ${A} x-foo=bar` });
  });

  it('passes the app error status and message through', async () => {
    await expect(call(client, 'Fail', md(B))).rejects.toMatchObject({ code: grpc.status.FAILED_PRECONDITION, details: 'not today' });
  });

  it('denies a method the callee access control forbids with PERMISSION_DENIED', async () => {
    const stream = client.Count({ name: 'n' }, md(B));
    const error = await new Promise<grpc.ServiceError>((resolve) => {
      stream.on('data', () => {});
      stream.on('error', resolve);
    });
    expect(error.code).toBe(grpc.status.PERMISSION_DENIED);
  });

  it('streams server messages when allowed (the callee calling itself has no policy and is allowed)', async () => {
    const self = new Greeter(`127.0.0.1:${b.sidecar.grpcPort}`, grpc.credentials.createInsecure()) as unknown as Client;
    const messages: string[] = [];
    await new Promise<void>((resolve, reject) => {
      const stream = self.Count({ name: 'n' }, md(B));
      stream.on('data', (m: Reply) => messages.push(m.message));
      stream.on('error', reject);
      stream.on('end', () => resolve());
    });
    self.close();
    expect(messages).toEqual(['n 1', 'n 2', 'n 3']);
  });

  it('fails with UNAVAILABLE for an unknown app id and leaves Dapr API calls alone', async () => {
    await expect(call(client, 'SayHello', md('nobody'))).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    const Dapr = (
      grpc.loadPackageDefinition(
        protoLoader.loadSync(['dapr/proto/runtime/v1/dapr.proto'], {
          includeDirs: [path.join(path.dirname(fileURLToPath(import.meta.resolve('@dapr/dapr/package.json'))), 'proto')],
        }),
      ) as unknown as { dapr: { proto: { runtime: { v1: { Dapr: grpc.ServiceClientConstructor } } } } }
    ).dapr.proto.runtime.v1.Dapr;
    const dapr = new Dapr(`127.0.0.1:${a.sidecar.grpcPort}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
      GetMetadata: (req: object, md: grpc.Metadata, cb: (err: Error | null, res?: { id: string }) => void) => void;
    };
    const metadata = await new Promise<{ id: string }>((resolve, reject) =>
      dapr.GetMetadata({}, md(B), (err, res) => (err ? reject(err) : resolve(res as { id: string }))),
    );
    expect(metadata.id).toBe(A);
    dapr.close();
  });
});
