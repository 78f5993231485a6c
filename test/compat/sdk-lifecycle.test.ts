/**
 * The SDK's view of a sidecar's life: `client.start()` waits for a sidecar that is not up yet,
 * `sidecar.shutdown()` ends the process, and with no resources path the embedded store keeps data
 * across restarts.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { CommunicationProtocolEnum } from '@dapr/dapr';
import { PROTOCOLS, removeDir, sdkClient, startCompatSidecar, tempDir, writeResources } from './support/compat-env.js';
import { WEFT_BIN, freePort, startWeftSidecar } from '../support/weft-process.js';

const cleanups: (() => Promise<unknown>)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** Resolves with the exit code once the process has exited; rejects after `timeoutMs`. */
function exitOf(child: ChildProcess, timeoutMs = 15_000): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`process ${child.pid} still running after ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

describe('client.start()', () => {
  it('keeps polling while no sidecar listens and resolves once one comes up, in both protocols', async () => {
    const ports = { httpPort: await freePort(), grpcPort: await freePort() };
    const clients = PROTOCOLS.map(({ protocol }) => sdkClient(ports, protocol));
    cleanups.push(() => Promise.all(clients.map((c) => c.stop())));
    const settled = clients.map(() => false);
    const started = clients.map((c, i) => c.start().then(() => (settled[i] = true)));
    // Long enough for the SDK's first attempts (500 ms apart) to fail against the closed ports.
    await new Promise((r) => setTimeout(r, 1200));
    expect(settled).toEqual([false, false]);

    const dir = await tempDir('late');
    cleanups.push(() => removeDir(dir));
    const resources = await writeResources(dir, 'state.in-memory');
    const child = spawn(
      process.execPath,
      [WEFT_BIN, 'sidecar', '--app-id', 'late', '--resources-path', resources,
        '--dapr-http-port', String(ports.httpPort), '--dapr-grpc-port', String(ports.grpcPort), '--metrics-port', '0'],
      { cwd: dir, stdio: 'ignore' },
    );
    cleanups.push(async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exitOf(child);
    });
    await Promise.all(started);
    expect(settled).toEqual([true, true]);
    for (const client of clients) expect((await client.metadata.get()).id).toBe('late');
  });
});

describe.each(PROTOCOLS)('sidecar.shutdown() over $name', ({ protocol }) => {
  it('makes the weft process exit with code 0', async () => {
    const sidecar = await startCompatSidecar({ appId: 'compat-shutdown', stateType: 'state.in-memory' });
    cleanups.push(() => sidecar.close());
    const client = sdkClient(sidecar.weft, protocol);
    cleanups.push(() => client.stop());
    await client.start();
    await client.sidecar.shutdown();
    expect(await exitOf(sidecar.weft.child)).toBe(0);
  });
});

describe('the embedded default (no resources path)', () => {
  it('serves a SQLite statestore under ./.weft that keeps values across restarts and protocols', async () => {
    const cwd = await tempDir('embedded');
    cleanups.push(() => removeDir(cwd));
    const key = `embedded-${process.pid}`;

    const first = await startWeftSidecar(['--app-id', 'embedded'], { cwd });
    const http = sdkClient(first, CommunicationProtocolEnum.HTTP);
    await http.start();
    const metadata = await http.metadata.get();
    const statestore = metadata.components.find((c) => c.name === 'statestore');
    expect(statestore).toMatchObject({ type: 'state.sqlite', version: 'v1' });
    expect(statestore?.capabilities).toEqual(expect.arrayContaining(['ETAG', 'TRANSACTIONAL', 'TTL', 'ACTOR']));
    expect(metadata.components.map((c) => c.name).sort()).toEqual(['pubsub', 'statestore']);
    expect(await http.state.save('statestore', [{ key, value: { visits: 1 } }])).toEqual({});
    await http.stop();
    expect(await first.stop()).toBe(0);
    expect(fs.existsSync(path.join(cwd, '.weft', 'state.sqlite'))).toBe(true);

    const second = await startWeftSidecar(['--app-id', 'embedded'], { cwd });
    cleanups.push(() => second.stop());
    const grpc = sdkClient(second, CommunicationProtocolEnum.GRPC);
    cleanups.push(() => grpc.stop());
    expect(await grpc.state.get('statestore', key)).toEqual({ visits: 1 });
  });

  it('puts the store in --data-dir instead of the working directory', async () => {
    const cwd = await tempDir('embedded-cwd');
    const data = await tempDir('embedded-data');
    cleanups.push(() => removeDir(cwd), () => removeDir(data));
    const dataDir = path.join(data, 'nested', 'data');
    const weft = await startWeftSidecar(['--app-id', 'embedded', '--data-dir', dataDir], { cwd });
    cleanups.push(() => weft.stop());
    const client = sdkClient(weft, CommunicationProtocolEnum.GRPC);
    cleanups.push(() => client.stop());
    expect(await client.state.save('statestore', [{ key: 'k', value: 'v' }])).toEqual({});
    expect(await client.state.get('statestore', 'k')).toBe('v');
    expect(fs.existsSync(path.join(dataDir, 'state.sqlite'))).toBe(true);
    expect(fs.existsSync(path.join(cwd, '.weft'))).toBe(false);
  });
});
