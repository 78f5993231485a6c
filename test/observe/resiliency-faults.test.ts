/**
 * Resiliency against real faults, through the sidecar's HTTP API: stores that fail N times or
 * stall (timeouts, retries, circuit breakers, Default…Policy names), and a real Redis behind a TCP
 * proxy that delays, plus a throw-away `redis-server` killed and restarted mid-request.
 */
import { spawn } from 'node:child_process';
import net from 'node:net';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFaultProxy } from '../support/fault-proxy.js';
import type { FaultProxy } from '../support/fault-proxy.js';
import { freePort } from '../support/weft-process.js';
import { servicesRequired } from '../support/services.js';
import { faultRegistry, faults, resetFaults } from './fault-drivers.js';
import { startObservedSidecar } from './observe-env.js';
import type { ObservedSidecar } from './observe-env.js';

const RESILIENCY = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata: {name: faults}
spec:
  policies:
    timeouts:
      fast: 100ms
    retries:
      threeQuick: {policy: constant, duration: 10ms, maxRetries: 3}
      DefaultSecretstoreComponentOutboundRetryPolicy: {policy: constant, duration: 10ms, maxRetries: 5}
    circuitBreakers:
      tripAtTwo: {trip: "consecutiveFailures >= 2", timeout: 1h, maxRequests: 1}
  targets:
    components:
      retried: {outbound: {retry: threeQuick}}
      timed: {outbound: {timeout: fast}}
      breaker: {outbound: {circuitBreaker: tripAtTwo}}
`;
const flakyStore = (name: string) => `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: ${name}}\nspec: {type: state.flaky, version: v1}\n`;

let s: ObservedSidecar;
let secretsDir: string;

beforeAll(async () => {
  secretsDir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-faults-'));
  await fs.writeFile(path.join(secretsDir, 'secrets.json'), JSON.stringify({ db: 'pw' }));
  s = await startObservedSidecar({
    registry: faultRegistry(),
    resources: [
      RESILIENCY,
      flakyStore('retried'),
      flakyStore('timed'),
      flakyStore('breaker'),
      `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: vault}\nspec:\n  type: secretstores.flaky\n  version: v1\n  metadata:\n  - {name: secretsFile, value: "${path.join(secretsDir, 'secrets.json')}"}\n`,
    ],
  });
});
afterAll(async () => {
  await s?.stop();
  await fs.rm(secretsDir, { recursive: true, force: true });
});
afterEach(() => resetFaults());

const save = (store: string, key: string) =>
  fetch(`${s.baseUrl}/v1.0/state/${store}`, { method: 'POST', body: JSON.stringify([{ key, value: { n: 1 } }]) });

describe('component outbound policies', () => {
  it('retries a store that fails twice, so the save succeeds', async () => {
    faults.failNext = 2;
    const res = await save('retried', 'k1');
    expect(res.status).toBe(204);
    expect(faults.calls).toBe(3);
    const metrics = await s.sidecar.metrics?.render();
    expect(metrics).toContain('dapr_resiliency_activations_total{app_id="observe-app",name="faults",policy="retry",namespace="",flow_direction="outbound",target="Statestore_retried",status=""} 2');
  });

  it('answers 500 ERR_STATE_SAVE when the store fails more often than maxRetries allows', async () => {
    faults.failNext = 10;
    const res = await save('retried', 'k2');
    expect(res.status).toBe(500);
    expect(((await res.json()) as { errorCode: string }).errorCode).toBe('ERR_STATE_SAVE');
    expect(faults.calls).toBe(4);
  });

  it('fails a stalled read with context deadline exceeded after the timeout', async () => {
    faults.delayMs = 2000;
    const res = await fetch(`${s.baseUrl}/v1.0/state/timed/k`);
    expect(res.status).toBe(500);
    const body = (await res.json()) as { errorCode: string; message: string };
    expect(body.errorCode).toBe('ERR_STATE_GET');
    expect(body.message).toContain('context deadline exceeded');
  });

  it('opens the circuit breaker after two failures and then refuses calls without reaching the store', async () => {
    faults.failNext = 2;
    expect((await fetch(`${s.baseUrl}/v1.0/state/breaker/k`)).status).toBe(500);
    expect((await fetch(`${s.baseUrl}/v1.0/state/breaker/k`)).status).toBe(500);
    const res = await fetch(`${s.baseUrl}/v1.0/state/breaker/k`);
    expect(res.status).toBe(500);
    expect(((await res.json()) as { message: string }).message).toContain('circuit breaker is open');
    expect(faults.calls).toBe(2);
    expect(await s.sidecar.metrics?.render()).toContain('target="Statestore_breaker",status="open"} 1');
  });

  it('applies DefaultSecretstoreComponentOutboundRetryPolicy to a secret store without a named target', async () => {
    faults.failNext = 3;
    const res = await fetch(`${s.baseUrl}/v1.0/secrets/vault/db`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ db: 'pw' });
    expect(faults.calls).toBe(4);
  });
});

/** A throw-away redis-server on a fixed port, started and killed by the test. */
async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const deadline = Date.now() + 10_000;
  for (;;) {
    const up = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ port, host: '127.0.0.1' });
      socket.once('connect', () => (socket.destroy(), resolve(true)));
      socket.once('error', () => resolve(false));
    });
    if (up) return child;
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`redis-server did not start on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Polls the sidecar's metrics until `pattern` matches or 10 s pass. */
async function waitForMetric(sidecar: ObservedSidecar, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!pattern.test((await sidecar.sidecar.metrics?.render()) ?? '') && Date.now() < deadline) {
    await new Promise((res) => setTimeout(res, 50));
  }
}

async function redisServerPresent(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = spawn('redis-server', ['--version'], { stdio: 'ignore' });
    probe.once('error', () => resolve(false));
    probe.once('exit', (code) => resolve(code === 0));
  });
}

describe('a real Redis behind a fault proxy', () => {
  let redis: ChildProcess | undefined;
  let proxy: FaultProxy;
  let redisPort: number;
  let r: ObservedSidecar;
  let present = false;

  beforeAll(async () => {
    present = await redisServerPresent();
    if (!present) {
      if (servicesRequired()) throw new Error('redis-server is not installed; the Redis fault suite must run under CI');
      console.warn(`\n${'!'.repeat(100)}\n!! SKIPPED: redis-server is not installed; the Redis fault suite cannot run\n${'!'.repeat(100)}\n`);
      return;
    }
    redisPort = await freePort();
    redis = await startRedis(redisPort);
    proxy = await startFaultProxy(redisPort);
    r = await startObservedSidecar({
      registry: faultRegistry(),
      resources: [
        `apiVersion: dapr.io/v1alpha1\nkind: Resiliency\nmetadata: {name: redis}\nspec:\n  policies:\n    timeouts: {quick: 300ms}\n    retries:\n      patient: {policy: constant, duration: 100ms, maxRetries: 100}\n  targets:\n    components:\n      cache: {outbound: {timeout: quick, retry: patient}}\n`,
        `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: cache}\nspec:\n  type: state.redisprobe\n  version: v1\n  metadata:\n  - {name: redisHost, value: "127.0.0.1:${proxy.port}"}\n`,
      ],
    });
  });
  afterAll(async () => {
    await r?.stop();
    await proxy?.close();
    redis?.kill('SIGKILL');
  });

  it('rides out a Redis killed and restarted mid-request', async (ctx) => {
    if (!present) return ctx.skip();
    expect((await fetch(`${r.baseUrl}/v1.0/state/cache`, { method: 'POST', body: JSON.stringify([{ key: 'before', value: 1 }]) })).status).toBe(204);
    redis?.kill('SIGKILL');
    await new Promise((resolve) => redis?.once('exit', resolve));
    const pending = fetch(`${r.baseUrl}/v1.0/state/cache`, { method: 'POST', body: JSON.stringify([{ key: 'during', value: 2 }]) });
    // Wait until the sidecar has demonstrably failed at least one attempt against the dead backend.
    const retried = /dapr_resiliency_activations_total\{[^}]*policy="retry"[^}]*target="Statestore_cache"[^}]*\} [1-9]/;
    await waitForMetric(r, retried);
    expect(await r.sidecar.metrics?.render()).toMatch(retried);
    redis = await startRedis(redisPort);
    const res = await pending;
    expect(res.status).toBe(204);
    expect(await (await fetch(`${r.baseUrl}/v1.0/state/cache/during`)).json()).toBe(2);
  });

  it('times out reads through a slow network and recovers when it heals', async (ctx) => {
    if (!present) return ctx.skip();
    await fetch(`${r.baseUrl}/v1.0/state/cache`, { method: 'POST', body: JSON.stringify([{ key: 'slow', value: 3 }]) });
    proxy.setDelay(1000);
    const started = fetch(`${r.baseUrl}/v1.0/state/cache/slow`);
    // Every attempt times out while the proxy is slow; heal it and the retried read completes.
    const timedOut = /dapr_resiliency_activations_total\{[^}]*policy="timeout"[^}]*target="Statestore_cache"[^}]*\} [1-9]/;
    await waitForMetric(r, timedOut);
    expect(await r.sidecar.metrics?.render()).toMatch(timedOut);
    proxy.setDelay(0);
    const res = await started;
    expect(res.status).toBe(200);
    expect(await res.json()).toBe(3);
  });
});
