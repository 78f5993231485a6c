/**
 * A component whose init fails is closed at once: with `ignoreErrors: true` the sidecar starts
 * without it and nothing of it keeps reconnecting in the background. The metadata API lists it under
 * `failedComponents` (a Weft extension; daprd leaves a failed component out of the metadata).
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestSidecar } from '../support/in-process.js';
import type { TestSidecar } from '../support/in-process.js';
import { freePort } from '../support/weft-process.js';

interface Door {
  port: number;
  attempts(): number;
  nextAttempt(): Promise<void>;
  /** Resolves once no accepted connection is open (the client hung up on every one). */
  allClosed(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A TCP listener counting connections: `slam` accepts and at once closes each (a backend that fails
 * fast), otherwise it accepts and never answers (a backend that hangs, so init times out).
 */
async function door(slam: boolean): Promise<Door> {
  let count = 0;
  let waiters: (() => void)[] = [];
  let closedWaiters: (() => void)[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    count++;
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      if (sockets.size === 0) for (const w of closedWaiters.splice(0)) w();
    });
    socket.on('error', () => {});
    if (slam) socket.destroy();
    else socket.resume(); // read (and ignore) requests, so a client's FIN is seen and the socket closes
    for (const w of waiters.splice(0)) w();
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    port,
    attempts: () => count,
    nextAttempt: () => new Promise<void>((resolve) => waiters.push(resolve)),
    allClosed: () => new Promise<void>((resolve) => (sockets.size === 0 ? resolve() : closedWaiters.push(resolve))),
    close: () =>
      new Promise<void>((resolve) => {
        waiters = [];
        closedWaiters = [];
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const component = (name: string, type: string, host: string, initTimeout = '2s', field = 'redisHost') => `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: ${name}}
spec:
  type: ${type}
  version: v1
  ignoreErrors: true
  initTimeout: ${initTimeout}
  metadata:
    - {name: ${field}, value: "${host}"}
`;

let sidecar: TestSidecar | undefined;
let backend: Door | undefined;
afterEach(async () => {
  await sidecar?.stop();
  await backend?.close();
  sidecar = undefined;
  backend = undefined;
});

describe('a component that fails to initialise', () => {
  it('is closed: with ignoreErrors no Redis client keeps reconnecting after start-up', async () => {
    backend = await door(true);
    const host = `127.0.0.1:${backend.port}`;
    sidecar = await startTestSidecar({
      resources: [component('cache', 'state.redis', host), component('events', 'pubsub.redis', host), component('queue', 'bindings.redis', host)],
    });
    const afterStart = backend.attempts();
    expect(afterStart).toBeGreaterThan(0);
    // ioredis retries within 50–2000 ms; a client left running would have knocked again by now.
    const knocked = await Promise.race([backend.nextAttempt().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3000))]);
    expect(knocked).toBe(false);
    expect(backend.attempts()).toBe(afterStart);
  });

  it('is closed when its init times out: the hanging connections are hung up and none is opened again', async () => {
    backend = await door(false);
    const host = `127.0.0.1:${backend.port}`;
    sidecar = await startTestSidecar({
      resources: [component('cache', 'state.redis', host, '300ms'), component('events', 'pubsub.redis', host, '300ms'), component('queue', 'bindings.redis', host, '300ms')],
    });
    expect(backend.attempts()).toBeGreaterThan(0);
    await backend.allClosed();
    const afterClose = backend.attempts();
    const knocked = await Promise.race([backend.nextAttempt().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3000))]);
    expect(knocked).toBe(false);
    expect(backend.attempts()).toBe(afterClose);
  });

  it('is closed when its init times out: an MQTT client waiting for the CONNACK hangs up', async () => {
    backend = await door(false);
    const url = `tcp://127.0.0.1:${backend.port}`;
    sidecar = await startTestSidecar({ resources: [component('mq', 'pubsub.mqtt3', url, '300ms', 'url'), component('mqin', 'bindings.mqtt3', url, '300ms', 'url')] });
    expect(backend.attempts()).toBeGreaterThan(0);
    await backend.allClosed();
    const afterClose = backend.attempts();
    const knocked = await Promise.race([backend.nextAttempt().then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3000))]);
    expect(knocked).toBe(false);
    expect(backend.attempts()).toBe(afterClose);
  });

  it('is reported in the metadata API as failed, with the reason, and not as loaded', async () => {
    backend = await door(true);
    sidecar = await startTestSidecar({ resources: [component('cache', 'state.redis', `127.0.0.1:${backend.port}`)] });
    const res = await fetch(`${sidecar.baseUrl}/v1.0/metadata`);
    const body = (await res.json()) as { components: { name: string }[]; failedComponents?: { name: string; type: string; version: string; error: string }[] };
    expect(body.components.map((c) => c.name)).not.toContain('cache');
    expect(body.failedComponents).toEqual([{ name: 'cache', type: 'state.redis', version: 'v1', error: expect.stringContaining(`cannot reach Redis at 127.0.0.1:${backend.port}`) }]);
  });
});
