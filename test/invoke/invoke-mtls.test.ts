/**
 * Mutual TLS between real `weft sidecar` processes, with certificates made by `openssl` here: a trusted
 * CA signs the workload certificates of apps a, b, c and g (SPIFFE IDs), an untrusted CA signs u's.
 * b (HTTP echo app) and g (gRPC app) only allow app a. p runs without mTLS.
 */
import { X509Certificate } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listRegistry } from '../../packages/runtime/src/index.js';
import { bundle, makeCa, makeLeaf } from '../support/certs.js';
import type { CertFiles } from '../support/certs.js';
import { startEchoApp } from '../support/echo-app.js';
import type { Echo, EchoApp } from '../support/echo-app.js';
import { freePort, startWeftSidecar } from '../support/weft-process.js';
import type { WeftProcess } from '../support/weft-process.js';

const PROTO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/invoke/greeter.proto');
type Reply = { message: string };
type Unary = (req: { name: string }, md: grpc.Metadata, cb: (err: grpc.ServiceError | null, res?: Reply) => void) => void;
type GreeterClient = grpc.Client & { SayHello: Unary };
const Greeter = (grpc.loadPackageDefinition(protoLoader.loadSync(PROTO)) as unknown as { weft: { test: { Greeter: grpc.ServiceClientConstructor } } }).weft.test.Greeter;

const id = (name: string) => `tls${process.pid}-${name}`;
const A = id('a');
const B = id('b');
const C = id('c');
const U = id('u');
const P = id('p');
const G = id('g');

/** Polls `probe` until it returns true; fails after a generous deadline. */
async function eventually(what: string, probe: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('mTLS between sidecars', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  let ca1: CertFiles;
  let certs: Record<'a' | 'b' | 'c' | 'g' | 'u', CertFiles>;
  let anchors: string;
  let echo: EchoApp;
  let grpcApp: grpc.Server;
  const sidecars: Partial<Record<'a' | 'b' | 'c' | 'g' | 'u' | 'p', WeftProcess>> = {};
  let metricsPort: { a: number; b: number };
  const side = (name: keyof typeof sidecars) => {
    const s = sidecars[name];
    if (!s) throw new Error(`sidecar ${name} is not running`);
    return s;
  };
  const tlsFlags = (files: CertFiles, ca = anchors) => ['--tls-cert-file', files.cert, '--tls-key-file', files.key, '--tls-ca-file', ca];
  const invoke = async (from: keyof typeof sidecars, target: string, method = 'echo') => {
    const res = await fetch(`http://127.0.0.1:${side(from).httpPort}/v1.0/invoke/${target}/method/${method}`, { method: 'POST', body: 'hi' });
    return { status: res.status, body: (await res.json()) as Echo & { errorCode?: string; message?: string } };
  };
  const internalPort = async (appId: string) => {
    const entry = (await listRegistry(path.join(dir, 'registry'))).find((e) => e.appId === appId);
    if (!entry) throw new Error(`${appId} is not registered`);
    return entry.internalPort;
  };
  const metricsOf = async (port: number) => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  const servedSerial = async (appId: string) => {
    const port = await internalPort(appId);
    const [cert, key, ca] = await Promise.all([fs.readFile(certs.c.cert), fs.readFile(certs.c.key), fs.readFile(ca1.cert)]);
    return new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port, cert, key, ca, ALPNProtocols: ['http/1.1'], checkServerIdentity: () => undefined }, () => {
        resolve(socket.getPeerCertificate().serialNumber);
        socket.destroy();
      });
      socket.once('error', reject);
    });
  };
  const greeter = (from: keyof typeof sidecars) => new Greeter(`127.0.0.1:${side(from).grpcPort}`, grpc.credentials.createInsecure()) as unknown as GreeterClient;
  const sayHello = (from: keyof typeof sidecars, target: string) => {
    const client = greeter(from);
    const md = new grpc.Metadata();
    md.set('dapr-app-id', target);
    return new Promise<Reply>((resolve, reject) =>
      client.SayHello({ name: 'weft' }, md, (err, res) => {
        client.close();
        if (err) reject(err);
        else resolve(res as Reply);
      }),
    );
  };

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-mtls-'));
    env = { WEFT_REGISTRY_DIR: path.join(dir, 'registry') };
    ca1 = await makeCa(dir, 'ca1');
    const ca2 = await makeCa(dir, 'ca2');
    const [a, b, c, g, u] = await Promise.all([
      makeLeaf(dir, 'a', ca1, { appId: A }),
      makeLeaf(dir, 'b', ca1, { appId: B, extraSans: [`DNS:${B}`] }),
      makeLeaf(dir, 'c', ca1, { appId: C }),
      makeLeaf(dir, 'g', ca1, { appId: G }),
      makeLeaf(dir, 'u', ca2, { appId: U }),
    ]);
    certs = { a, b, c, g, u };
    anchors = ca1.cert;
    // Each sidecar watches its own files, so b's trust anchors can be rotated without touching the others.
    const bAnchors = await bundle(path.join(dir, 'b-anchors.crt'), ca1.cert);
    const uAnchors = await bundle(path.join(dir, 'u-anchors.crt'), ca1.cert, ca2.cert);
    const config = path.join(dir, 'config.yaml');
    await fs.writeFile(
      config,
      `apiVersion: dapr.io/v1alpha1\nkind: Configuration\nmetadata: {name: only-a}\nspec:\n  accessControl:\n    defaultAction: deny\n    trustDomain: public\n    policies:\n    - appId: ${A}\n      defaultAction: allow\n      trustDomain: public\n      namespace: default\n`,
    );
    echo = await startEchoApp(B);
    grpcApp = new grpc.Server();
    grpcApp.addService(Greeter.service, {
      SayHello: (call: grpc.ServerUnaryCall<{ name: string }, Reply>, cb: grpc.sendUnaryData<Reply>) =>
        cb(null, { message: `hello ${call.request.name} from ${String(call.metadata.get('dapr-caller-app-id')[0])}` }),
      Fail: (_c: unknown, cb: grpc.sendUnaryData<Reply>) => cb({ code: grpc.status.INTERNAL }),
      Count: (call: grpc.ServerWritableStream<{ name: string }, Reply>) => call.end(),
    });
    const grpcPort = await new Promise<number>((resolve, reject) =>
      grpcApp.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
    );
    metricsPort = { a: await freePort(), b: await freePort() };
    const start = async (name: keyof typeof sidecars, args: string[], extraEnv: NodeJS.ProcessEnv = {}) => {
      sidecars[name] = await startWeftSidecar(['--data-dir', path.join(dir, name), ...args], { env: { ...env, ...extraEnv }, cwd: dir, timeoutMs: 60_000 });
    };
    const pem = async (file: string) => fs.readFile(file, 'utf8');
    await Promise.all([
      start('a', ['--app-id', A, '--metrics-port', String(metricsPort.a), ...tlsFlags(a)]),
      start('b', ['--app-id', B, '--app-port', String(echo.port), '--config', config, '--metrics-port', String(metricsPort.b), ...tlsFlags(b, bAnchors)]),
      // daprd's way: --enable-mtls with PEM text in DAPR_CERT_CHAIN, DAPR_CERT_KEY and DAPR_TRUST_ANCHORS.
      start('c', ['--app-id', C, '--enable-mtls'], { DAPR_CERT_CHAIN: await pem(c.cert), DAPR_CERT_KEY: await pem(c.key), DAPR_TRUST_ANCHORS: await pem(ca1.cert) }),
      start('g', ['--app-id', G, '--app-port', String(grpcPort), '--app-protocol', 'grpc', '--config', config, ...tlsFlags(g)]),
      start('u', ['--app-id', U, ...tlsFlags(u, uAnchors)]),
      start('p', ['--app-id', P]),
    ]);
    // The callees take calls once their apps are discovered.
    await eventually('b and g are ready', async () => {
      const ready = await Promise.all([side('b'), side('g')].map((s) => fetch(`http://127.0.0.1:${s.httpPort}/v1.0/healthz`).then((r) => r.status === 204, () => false)));
      return ready.every(Boolean);
    });
  }, 120_000);

  afterAll(async () => {
    await Promise.all(Object.values(sidecars).map((s) => s?.stop()));
    await echo?.stop();
    grpcApp?.forceShutdown();
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('invokes over mTLS, repeatedly on pooled connections, and the app sees the caller id from the certificate', async () => {
    for (let i = 0; i < 3; i++) {
      const { status, body } = await invoke('a', B);
      expect(status).toBe(200);
      expect(body.app).toBe(B);
      expect(body.headers['dapr-caller-app-id']).toBe(A);
    }
  });

  it('starts from daprd-style DAPR_CERT_CHAIN, DAPR_CERT_KEY and DAPR_TRUST_ANCHORS and is denied by an ACL that allows only a', async () => {
    const { status, body } = await invoke('c', B);
    expect(status).toBe(403);
    expect(body.errorCode).toBe('ERR_DIRECT_INVOKE');
    expect(body.message).toContain(`access control policy has denied access to appid: ${C}`);
  });

  it('takes the caller from the verified certificate and ignores a dapr-caller-app-id header that disagrees', async () => {
    const port = await internalPort(B);
    const read = (f: string) => fs.readFile(f);
    const agentFor = async (files: CertFiles) =>
      new Agent({ connect: { cert: await read(files.cert), key: await read(files.key), ca: await read(ca1.cert), checkServerIdentity: () => undefined } });
    const asC = await agentFor(certs.c);
    const spoofed = await asC.request({ origin: `https://127.0.0.1:${port}`, path: '/echo', method: 'GET', headers: { 'dapr-caller-app-id': A } });
    const denied = (await spoofed.body.json()) as { errorCode: string; message: string };
    expect(spoofed.statusCode).toBe(403);
    expect(denied.message).toContain(`appid: ${C}`);
    const asA = await agentFor(certs.a);
    const claimed = await asA.request({ origin: `https://127.0.0.1:${port}`, path: '/echo', method: 'GET', headers: { 'dapr-caller-app-id': 'mallory' } });
    const seen = (await claimed.body.json()) as Echo;
    expect(claimed.statusCode).toBe(200);
    expect(seen.headers['dapr-caller-app-id']).toBe(A);
    await Promise.all([asC.close(), asA.close()]);
  });

  it('refuses a caller whose certificate no trust anchor of the callee signs, with an mTLS error', async () => {
    const { status, body } = await invoke('u', B);
    expect(status).toBe(500);
    expect(body.errorCode).toBe('ERR_DIRECT_INVOKE');
    expect(body.message).toMatch(/mTLS handshake with the sidecar of .* failed/);
  });

  it('answers a plain-text caller with ERR_DIRECT_INVOKE saying the callee requires mTLS', async () => {
    const { status, body } = await invoke('p', B);
    expect(status).toBe(500);
    expect(body.errorCode).toBe('ERR_DIRECT_INVOKE');
    expect(body.message).toContain(`the sidecar of ${B} requires mTLS`);
  });

  it('fails with ERR_DIRECT_INVOKE naming TLS when the callee sidecar does not use mTLS', async () => {
    const { status, body } = await invoke('a', P);
    expect(status).toBe(500);
    expect(body.errorCode).toBe('ERR_DIRECT_INVOKE');
    expect(body.message).toContain('does not speak TLS');
  });

  it('proxies gRPC calls by dapr-app-id over mTLS with the caller identity from the certificate', async () => {
    await expect(sayHello('a', G)).resolves.toEqual({ message: `hello weft from ${A}` });
    await expect(sayHello('c', G)).rejects.toMatchObject({ code: grpc.status.PERMISSION_DENIED, details: expect.stringContaining(`appid: ${C}`) as unknown });
  });

  it('refuses plain-text gRPC hops to an mTLS sidecar and TLS hops to a plain one with errors that say so', async () => {
    await expect(sayHello('p', G)).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: expect.stringContaining('requires mTLS') as unknown });
    await expect(sayHello('a', P)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE, details: expect.stringContaining('does not speak TLS') as unknown });
  });

  it('counts the mTLS start-up in dapr_runtime_mtls_init_total', async () => {
    expect(await metricsOf(metricsPort.b)).toContain(`dapr_runtime_mtls_init_total{app_id="${B}"} 1`);
  });

  it('keeps the certificate when a changed file names another app, and uses a rotated certificate for new connections', async () => {
    const before = await servedSerial(A);
    const wrong = await makeLeaf(dir, 'a-wrong', ca1, { appId: 'someone-else' });
    await fs.copyFile(wrong.key, certs.a.key);
    await fs.copyFile(wrong.cert, certs.a.cert);
    await eventually('a rejected the certificate of another app', async () => (await metricsOf(metricsPort.a)).includes(`dapr_runtime_mtls_workload_cert_rotated_fail_total{app_id="${A}",reason="identity"}`));
    expect(await servedSerial(A)).toBe(before);

    const next = await makeLeaf(dir, 'a-next', ca1, { appId: A });
    await fs.copyFile(next.key, certs.a.key);
    await fs.copyFile(next.cert, certs.a.cert);
    const nextSerial = new X509Certificate(await fs.readFile(next.cert)).serialNumber;
    await eventually('a serves the rotated certificate', async () => (await servedSerial(A)) === nextSerial);
    expect(await metricsOf(metricsPort.a)).toContain(`dapr_runtime_mtls_workload_cert_rotated_total{app_id="${A}"} 1`);
    const { status, body } = await invoke('a', B);
    expect(status).toBe(200);
    expect(body.headers['dapr-caller-app-id']).toBe(A);
  });

  it('picks up rotated trust anchors: a caller signed by a newly trusted CA reaches access control', async () => {
    await bundle(path.join(dir, 'b-anchors.crt'), ca1.cert, path.join(dir, 'ca2.crt'));
    // u is still not allowed by b's ACL, but now it gets that far instead of failing the handshake.
    await eventually('b trusts the second CA', async () => (await invoke('u', B)).status === 403);
    const { body } = await invoke('u', B);
    expect(body.message).toContain(`appid: ${U}`);
  });
});

describe('mTLS start-up errors', () => {
  let dir: string;
  let ca: CertFiles;
  let leaf: CertFiles;
  const APP = id('solo');

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-mtls-bad-'));
    ca = await makeCa(dir, 'ca');
    leaf = await makeLeaf(dir, 'leaf', ca, { appId: APP });
  });

  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  const start = (args: string[]) => startWeftSidecar(['--app-id', APP, '--data-dir', path.join(dir, 'data'), ...args], { env: { WEFT_REGISTRY_DIR: path.join(dir, 'registry') }, cwd: dir, timeoutMs: 30_000 });

  it('names a missing certificate file', async () => {
    const missing = path.join(dir, 'nope.crt');
    await expect(start(['--tls-cert-file', missing, '--tls-key-file', leaf.key, '--tls-ca-file', ca.cert])).rejects.toThrow(`cannot read --tls-cert-file ${missing}: no such file`);
  });

  it("refuses a CA certificate as the workload certificate (Dapr's issuer.crt) and says what to give instead", async () => {
    await expect(start(['--tls-cert-file', ca.cert, '--tls-key-file', ca.key, '--tls-ca-file', ca.cert])).rejects.toThrow(/is a CA certificate .* spiffe:\/\/<trust domain>\/ns\/default\//);
  });

  it('refuses a certificate whose SPIFFE ID names another app', async () => {
    const other = await makeLeaf(dir, 'other', ca, { appId: 'other-app' });
    await expect(start(['--tls-cert-file', other.cert, '--tls-key-file', other.key, '--tls-ca-file', ca.cert])).rejects.toThrow(
      `identifies spiffe://public/ns/default/other-app, but this sidecar is app "${APP}"`,
    );
  });

  it('refuses --enable-mtls without certificates, naming the flags and variables that give them', async () => {
    await expect(start(['--enable-mtls'])).rejects.toThrow('mTLS is enabled but --tls-cert-file (or DAPR_CERT_CHAIN), --tls-key-file (or DAPR_CERT_KEY), --tls-ca-file (or DAPR_TRUST_ANCHORS) are not given');
  });
});
