/**
 * The caller's app resiliency policy on gRPC proxying by `dapr-app-id`: a plain gRPC client calls its
 * own sidecar, which proxies to the callee sidecars and on to one real gRPC app whose answers are
 * scripted per request (fail N times with a status, never answer). One callee reaches the app
 * through a TCP fault proxy that drops or delays connections.
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy } from '../support/fault-proxy.js';
import type { FaultProxy } from '../support/fault-proxy.js';
import { startTestSidecar } from '../support/in-process.js';
import type { TestSidecar } from '../support/in-process.js';
import { eventually } from '../support/subscriber-app.js';

const PROTO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/invoke/greeter.proto');
type Request = { name: string };
type Reply = { message: string };
type Callback = (err: grpc.ServiceError | null, res?: Reply) => void;
type Client = grpc.Client & {
  SayHello(req: Request, md: grpc.Metadata, cb: Callback): void;
  Fail(req: Request, md: grpc.Metadata, cb: Callback): void;
  Count(req: Request, md: grpc.Metadata): grpc.ClientReadableStream<Reply>;
  Collect(md: grpc.Metadata, cb: Callback): grpc.ClientWritableStream<Request>;
};
const Greeter = (grpc.loadPackageDefinition(protoLoader.loadSync(PROTO)) as unknown as { weft: { test: { Greeter: grpc.ServiceClientConstructor } } }).weft
  .test.Greeter;

/** The gRPC app: per request name, statuses to fail with before answering; names starting `hang` never get an answer. */
class ScriptedGreeter {
  readonly script = new Map<string, number[]>();
  readonly calls = new Map<string, number>();
  /** While true, `Fail` fails with FAILED_PRECONDITION. */
  failing = true;
  readonly server = new grpc.Server();
  port = 0;

  private seen(key: string): void {
    this.calls.set(key, (this.calls.get(key) ?? 0) + 1);
  }

  async start(): Promise<void> {
    this.server.addService(Greeter.service, {
      SayHello: (call: grpc.ServerUnaryCall<Request, Reply>, cb: grpc.sendUnaryData<Reply>) => {
        const name = call.request.name;
        this.seen(`SayHello:${name}`);
        if (name.startsWith('hang')) return;
        const code = this.script.get(name)?.shift();
        if (code !== undefined) cb({ code, details: `scripted failure ${code}` });
        else cb(null, { message: `hello ${name}` });
      },
      Fail: (call: grpc.ServerUnaryCall<Request, Reply>, cb: grpc.sendUnaryData<Reply>) => {
        this.seen(`Fail:${call.request.name}`);
        if (this.failing) cb({ code: grpc.status.FAILED_PRECONDITION, details: 'not today' });
        else cb(null, { message: 'fine today' });
      },
      Count: (call: grpc.ServerWritableStream<Request, Reply>) => {
        this.seen(`Count:${call.request.name}`);
        for (let i = 1; i <= 3; i++) call.write({ message: `${call.request.name} ${i}` });
        call.end();
      },
      Collect: (call: grpc.ServerReadableStream<Request, Reply>, cb: grpc.sendUnaryData<Reply>) => {
        const names: string[] = [];
        call.on('data', (r: Request) => names.push(r.name));
        call.on('end', () => {
          this.seen(`Collect:${names.join(',')}`);
          cb(null, { message: names.join(',') });
        });
      },
    });
    this.port = await new Promise<number>((resolve, reject) =>
      this.server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err ? reject(err) : resolve(port))),
    );
  }
}

const id = `gpres${process.pid}`;
/** Retry 3× + 300ms timeout. */
const RETRIED = `${id}-retried`;
/** Breaker that trips at two consecutive failures and half-opens after 2s. */
const BROKEN = `${id}-broken`;
/** Retries only UNAVAILABLE (`matching.gRPCStatusCodes: "14"`). */
const MATCHED = `${id}-matched`;
/** Behind the fault proxy: retries every 50ms, 300ms timeout. */
const PROXIED = `${id}-proxied`;

const RESILIENCY = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: grpc-proxy-policies}
spec:
  policies:
    timeouts: {quick: 300ms}
    retries:
      threeQuick: {policy: constant, duration: 10ms, maxRetries: 3}
      onlyUnavailable: {policy: constant, duration: 10ms, maxRetries: 3, matching: {gRPCStatusCodes: "14"}}
      patient: {policy: constant, duration: 50ms, maxRetries: 200}
    circuitBreakers:
      # Open for 2s: long enough that the refusal the test asserts comes before the half-open probe.
      tripAtTwo: {trip: "consecutiveFailures >= 2", timeout: 2s, maxRequests: 1}
  targets:
    apps:
      ${RETRIED}: {retry: threeQuick, timeout: quick}
      ${BROKEN}: {circuitBreaker: tripAtTwo}
      ${MATCHED}: {retry: onlyUnavailable}
      ${PROXIED}: {retry: patient, timeout: quick}
`;

describe('resiliency policies on gRPC proxying (caller side)', () => {
  let registry: string;
  const app = new ScriptedGreeter();
  let faultProxy: FaultProxy;
  let caller: TestSidecar;
  const callees: TestSidecar[] = [];
  let client: Client;

  beforeAll(async () => {
    registry = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-gpres-'));
    const env = { WEFT_REGISTRY_DIR: registry };
    await app.start();
    faultProxy = await startFaultProxy(app.port);
    for (const appId of [RETRIED, BROKEN, MATCHED, PROXIED]) {
      const appPort = appId === PROXIED ? faultProxy.port : app.port;
      callees.push(await startTestSidecar({ appId, env, appPort, appProtocol: 'grpc' }));
    }
    caller = await startTestSidecar({ appId: `${id}-caller`, env, resources: [RESILIENCY] });
    await eventually(() => callees.every((c) => c.sidecar.health.ready()), 10_000, 'callees ready');
    client = new Greeter(`127.0.0.1:${caller.sidecar.grpcPort}`, grpc.credentials.createInsecure()) as unknown as Client;
  });

  afterAll(async () => {
    client?.close();
    await Promise.all([caller?.stop(), ...callees.map((c) => c.stop())]);
    await faultProxy?.close();
    app.server.forceShutdown();
    await fs.rm(registry, { recursive: true, force: true });
  });

  const md = (target: string, extra: Record<string, string> = {}) => {
    const m = new grpc.Metadata();
    m.set('dapr-app-id', target);
    for (const [k, v] of Object.entries(extra)) m.set(k, v);
    return m;
  };
  const unary = (method: 'SayHello' | 'Fail', target: string, name: string, extra: Record<string, string> = {}) =>
    new Promise<Reply>((resolve, reject) => client[method]({ name }, md(target, extra), (err, res) => (err ? reject(err) : resolve(res as Reply))));
  const outcome = (p: Promise<Reply>) => p.then((reply) => ({ reply, error: undefined }), (error: grpc.ServiceError) => ({ reply: undefined, error }));
  const metrics = async () => (await caller.sidecar.metrics?.render()) ?? '';

  describe('retry', () => {
    it('retries a call the app failed twice with UNAVAILABLE and returns its eventual answer', async () => {
      app.script.set('r-twice', [grpc.status.UNAVAILABLE, grpc.status.UNAVAILABLE]);
      await expect(unary('SayHello', RETRIED, 'r-twice')).resolves.toEqual({ message: 'hello r-twice' });
      expect(app.calls.get('SayHello:r-twice')).toBe(3);
      expect(await metrics()).toMatch(new RegExp(`dapr_resiliency_activations_total\\{[^}]*policy="retry"[^}]*flow_direction="outbound",target="app_${RETRIED}"[^}]*\\} [1-9]`));
    });

    it("passes the app's last status and message back once retries are exhausted", async () => {
      app.script.set('r-down', Array<number>(5).fill(grpc.status.INTERNAL));
      const { error } = await outcome(unary('SayHello', RETRIED, 'r-down'));
      expect(error?.code).toBe(grpc.status.INTERNAL);
      expect(error?.details).toBe(`scripted failure ${grpc.status.INTERNAL}`);
      expect(app.calls.get('SayHello:r-down')).toBe(4);
    });

    it('retries only the status codes listed in matching.gRPCStatusCodes', async () => {
      app.script.set('m-unavailable', [grpc.status.UNAVAILABLE, grpc.status.UNAVAILABLE]);
      app.script.set('m-precondition', [grpc.status.FAILED_PRECONDITION]);
      await expect(unary('SayHello', MATCHED, 'm-unavailable')).resolves.toEqual({ message: 'hello m-unavailable' });
      expect(app.calls.get('SayHello:m-unavailable')).toBe(3);
      const { error } = await outcome(unary('SayHello', MATCHED, 'm-precondition'));
      expect(error?.code).toBe(grpc.status.FAILED_PRECONDITION);
      expect(app.calls.get('SayHello:m-precondition')).toBe(1);
    });

    it('rides out the connection to the app being dropped, and the call reaches the app once it heals', async () => {
      faultProxy.drop();
      const pending = outcome(unary('SayHello', PROXIED, 'p-drop'));
      const retried = new RegExp(`dapr_resiliency_activations_total\\{[^}]*policy="retry"[^}]*target="app_${PROXIED}"[^}]*\\} [1-9]`);
      await eventually(async () => retried.test(await metrics()), 10_000, 'a retry against the dropped app');
      expect(app.calls.get('SayHello:p-drop')).toBeUndefined();
      faultProxy.heal();
      const { reply, error } = await pending;
      expect(error).toBeUndefined();
      expect(reply).toEqual({ message: 'hello p-drop' });
      expect(app.calls.get('SayHello:p-drop')).toBe(1);
    });
  });

  describe('timeout', () => {
    it('answers DEADLINE_EXCEEDED "context deadline exceeded" when every attempt times out', async () => {
      const { error } = await outcome(unary('SayHello', RETRIED, 'hang-1'));
      expect(error?.code).toBe(grpc.status.DEADLINE_EXCEEDED);
      expect(error?.details).toBe('context deadline exceeded');
      // The first attempt and three retries each reached the app and were cut off.
      await eventually(() => app.calls.get('SayHello:hang-1') === 4, 5_000, 'four attempts');
      expect(await metrics()).toMatch(new RegExp(`dapr_resiliency_activations_total\\{[^}]*policy="timeout"[^}]*target="app_${RETRIED}"[^}]*\\} [4-9]`));
    });

    it('times out attempts through a slow network and completes once it is fast again', async () => {
      faultProxy.setDelay(1000);
      const pending = outcome(unary('SayHello', PROXIED, 'p-slow'));
      const timedOut = new RegExp(`dapr_resiliency_activations_total\\{[^}]*policy="timeout"[^}]*target="app_${PROXIED}"[^}]*\\} [1-9]`);
      await eventually(async () => timedOut.test(await metrics()), 10_000, 'a timed-out attempt');
      faultProxy.setDelay(0);
      const { reply, error } = await pending;
      expect(error).toBeUndefined();
      expect(reply).toEqual({ message: 'hello p-slow' });
    });
  });

  describe('circuit breaker', () => {
    it('opens per method after two failures, refuses with UNKNOWN without reaching the app, and closes after a successful probe', async () => {
      app.failing = true;
      for (let i = 0; i < 2; i++) {
        const { error } = await outcome(unary('Fail', BROKEN, 'cb'));
        expect(error?.code).toBe(grpc.status.FAILED_PRECONDITION);
      }
      const refused = await outcome(unary('Fail', BROKEN, 'cb'));
      expect(refused.error?.code).toBe(grpc.status.UNKNOWN);
      expect(refused.error?.details).toBe('circuit breaker is open');
      expect(app.calls.get('Fail:cb')).toBe(2);
      expect(await metrics()).toMatch(new RegExp(`dapr_resiliency_cb_state\\{[^}]*target="app_${BROKEN}"[^}]*\\} 2`));
      // The breaker is per endpoint (app id and method): another method of the same app still passes.
      await expect(unary('SayHello', BROKEN, 'cb-other')).resolves.toEqual({ message: 'hello cb-other' });
      // The app recovers; once the breaker half-opens, one probe reaches it and closes the breaker.
      app.failing = false;
      let answer: Awaited<ReturnType<typeof outcome>> = refused;
      await eventually(async () => {
        answer = await outcome(unary('Fail', BROKEN, 'cb'));
        if (answer.error) expect(answer.error.details).toBe('circuit breaker is open');
        return answer.error === undefined;
      }, 10_000, 'the breaker to let a probe through');
      expect(answer.reply).toEqual({ message: 'fine today' });
      expect(app.calls.get('Fail:cb')).toBe(3);
      await expect(unary('Fail', BROKEN, 'cb')).resolves.toEqual({ message: 'fine today' });
    });
  });

  describe('streams', () => {
    it('proxies a server stream marked dapr-stream: true under a retry policy', async () => {
      const messages: string[] = [];
      await new Promise<void>((resolve, reject) => {
        const stream = client.Count({ name: 's' }, md(MATCHED, { 'dapr-stream': 'true' }));
        stream.on('data', (m: Reply) => messages.push(m.message));
        stream.on('error', reject);
        stream.on('end', () => resolve());
      });
      expect(messages).toEqual(['s 1', 's 2', 's 3']);
    });

    it('proxies a server stream without dapr-stream under a retry policy (one request message can be replayed)', async () => {
      const messages: string[] = [];
      await new Promise<void>((resolve, reject) => {
        const stream = client.Count({ name: 'u' }, md(MATCHED));
        stream.on('data', (m: Reply) => messages.push(m.message));
        stream.on('error', reject);
        stream.on('end', () => resolve());
      });
      expect(messages).toEqual(['u 1', 'u 2', 'u 3']);
    });

    const collect = (extra: Record<string, string>) =>
      outcome(
        new Promise<Reply>((resolve, reject) => {
          const call = client.Collect(md(MATCHED, extra), (err, res) => (err ? reject(err) : resolve(res as Reply)));
          call.write({ name: 'a' });
          call.write({ name: 'b' });
          call.end();
        }),
      );

    it('fails a client stream without dapr-stream under a retry policy with FAILED_PRECONDITION, as daprd does', async () => {
      const { error } = await collect({});
      expect(error?.code).toBe(grpc.status.FAILED_PRECONDITION);
      expect(error?.details).toBe('cannot use resiliency policies with retries on streaming RPCs');
      expect(app.calls.get('Collect:a,b')).toBeUndefined();
    });

    it('proxies a client stream marked dapr-stream: true under a retry policy', async () => {
      const { reply, error } = await collect({ 'dapr-stream': 'true' });
      expect(error).toBeUndefined();
      expect(reply).toEqual({ message: 'a,b' });
    });
  });
});
