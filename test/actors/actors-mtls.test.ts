/**
 * Actor calls between real `weft sidecar` processes with mutual TLS (certificates made by `openssl`
 * here, SPIFFE IDs of the apps): a call for an actor hosted by another sidecar travels over the same
 * authenticated channel as service invocation, and the host's internal port refuses actor calls that
 * do not come over it (a sidecar without mTLS, or a plain HTTP request).
 */
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listRegistry } from '../../packages/runtime/src/index.js';
import { makeCa, makeLeaf } from '../support/certs.js';
import type { CertFiles } from '../support/certs.js';
import { freePort, startWeftSidecar } from '../support/weft-process.js';
import type { WeftProcess } from '../support/weft-process.js';
import { startRawActorApp, waitForHosted } from './raw-actor-app.js';
import type { RawActorApp } from './raw-actor-app.js';

const id = (name: string) => `amtls${process.pid}-${name}`;
const HOST = id('host');
const CALLER = id('caller');
const PLAIN = id('plain');

let dir: string;
let app: RawActorApp;
const sidecars: Record<string, WeftProcess> = {};
const side = (name: string) => sidecars[name] as WeftProcess;
const invoke = (from: string, actorId: string) =>
  fetch(`http://127.0.0.1:${side(from).httpPort}/v1.0/actors/Secure/${actorId}/method/echo`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ actorId }) });
const reached = (actorId: string) => app.calls.some((c) => c.path === `/actors/Secure/${actorId}/method/echo`);

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-actors-mtls-'));
  const ca = await makeCa(dir, 'ca');
  const leaf = (appId: string) => makeLeaf(dir, appId, ca, { appId });
  const [hostCert, callerCert] = await Promise.all([leaf(HOST), leaf(CALLER)]);
  const tlsFlags = (files: CertFiles) => ['--tls-cert-file', files.cert, '--tls-key-file', files.key, '--tls-ca-file', ca.cert];
  const env = { WEFT_REGISTRY_DIR: path.join(dir, 'registry') };
  app = await startRawActorApp(await freePort(), { entities: ['Secure'] });
  const start = async (name: string, args: string[]) => {
    sidecars[name] = await startWeftSidecar(['--app-id', name, '--log-level', 'warn', '--data-dir', path.join(dir, name), ...args], { cwd: dir, env, timeoutMs: 60_000 });
  };
  await Promise.all([
    start(HOST, ['--app-port', String(app.port), ...tlsFlags(hostCert)]),
    start(CALLER, tlsFlags(callerCert)),
    start(PLAIN, []),
  ]);
  app.sidecarPort = side(HOST).httpPort;
  await waitForHosted(side(HOST).httpPort, 'Secure');
}, 120_000);

afterAll(async () => {
  for (const s of Object.values(sidecars)) await s.stop();
  await app?.close();
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

describe('actor calls between sidecars with mTLS on', () => {
  it('reach an actor hosted by another sidecar over mTLS', async () => {
    const res = await invoke(CALLER, 's1');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ actorId: 's1' });
    expect(reached('s1')).toBe(true);
  });

  it('are refused when the calling sidecar speaks plain text', async () => {
    const res = await invoke(PLAIN, 's2');
    expect(res.status).toBe(500);
    expect(reached('s2')).toBe(false);
  });

  it("are refused on the host's internal port without a client certificate", async () => {
    const entry = (await listRegistry(path.join(dir, 'registry'))).find((e) => e.appId === HOST);
    const port = entry?.internalPort ?? 0;
    const plain = await fetch(`http://127.0.0.1:${port}/weft-internal/actors/Secure/s3/method/echo`, { method: 'PUT', body: '{}' }).then(
      (r) => r.status,
      () => 'refused',
    );
    expect(plain).not.toBe(200);
    expect(reached('s3')).toBe(false);
  });
});
