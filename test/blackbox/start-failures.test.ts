/**
 * A sidecar that cannot start says why, quickly, and exits: an unreachable Redis (a host that does not
 * resolve, as in a compose file run outside compose) names host and cause instead of hanging with
 * "Unhandled error event" lines; `ignoreErrors` lets the sidecar start without the component; a port
 * already in use names the flag it came from; an unknown field in a resource names the field.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WEFT_BIN, freePort, startWeftSidecar } from '../support/weft-process.js';
import type { WeftProcess } from '../support/weft-process.js';

/** Runs `weft sidecar` to its exit (or kills it at the deadline) and returns code and output. */
async function sidecarExit(args: string[], env: NodeJS.ProcessEnv, deadlineMs = 60_000): Promise<{ code: number | null; output: string }> {
  const [http, grpc] = [await freePort(), await freePort()];
  const child = spawn(process.execPath, [WEFT_BIN, 'sidecar', '--app-id', 'fail', '--metrics-port', '0', '-H', String(http), '-G', String(grpc), ...args], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), deadlineMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, output };
}

function redisPubsub(name: string, host: string, extra: string[] = []): string {
  return [
    'apiVersion: dapr.io/v1alpha1',
    'kind: Component',
    'metadata:',
    `  name: ${name}`,
    'spec:',
    '  type: pubsub.redis',
    '  version: v1',
    ...extra,
    '  metadata:',
    '    - name: redisHost',
    `      value: ${host}`,
    '',
  ].join('\n');
}

describe('start-up failures', () => {
  let dir: string;
  let env: NodeJS.ProcessEnv;
  const running: WeftProcess[] = [];

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-startfail-'));
    env = { WEFT_REGISTRY_DIR: path.join(dir, 'registry') };
  });
  afterAll(async () => {
    await Promise.all(running.map((p) => p.stop()));
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('exits with "cannot reach Redis at <host>: host not found" when redisHost does not resolve', async () => {
    const resources = path.join(dir, 'unresolvable');
    await fs.mkdir(resources);
    await fs.writeFile(path.join(resources, 'pubsub.yaml'), redisPubsub('pubsub', 'redis-nohost.invalid:6379'));
    const { code, output } = await sidecarExit(['--resources-path', resources, '--data-dir', path.join(dir, 'data1')], env);
    expect(code).toBe(1);
    expect(output).toContain('cannot reach Redis at redis-nohost.invalid:6379: host not found');
    expect(output).not.toContain('Unhandled error event');
    expect(output).not.toContain('invalid resources');
  }, 90_000);

  it('starts without the component when it sets ignoreErrors', async () => {
    const resources = path.join(dir, 'ignored');
    await fs.mkdir(resources);
    await fs.writeFile(path.join(resources, 'pubsub.yaml'), redisPubsub('pubsub', 'redis-nohost.invalid:6379', ['  ignoreErrors: true']));
    const sidecar = await startWeftSidecar(['--app-id', 'ignored', '--resources-path', resources, '--data-dir', path.join(dir, 'data2')], { env, timeoutMs: 60_000 });
    running.push(sidecar);
    expect(sidecar.output()).toContain('ignoreErrors');
    expect(sidecar.output()).not.toContain('Unhandled error event');
  }, 90_000);

  it('names the flag of a port that is already in use', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      const { code, output } = await sidecarExit(['--dapr-internal-grpc-port', String(port), '--data-dir', path.join(dir, 'data3')], env);
      expect(code).toBe(1);
      expect(output).toMatch(new RegExp(`port ${port} .*already in use.*--dapr-internal-grpc-port`));
    } finally {
      server.close();
    }
  }, 90_000);

  it('names an unknown field in a resource', async () => {
    const resources = path.join(dir, 'unknown-field');
    await fs.mkdir(resources);
    await fs.writeFile(
      path.join(resources, 'state.yaml'),
      ['apiVersion: dapr.io/v1alpha1', 'kind: Component', 'metadata:', '  name: statestore', 'spec:', '  type: state.in-memory', '  version: v1', '  initTimout: 5s', ''].join('\n'),
    );
    const { code, output } = await sidecarExit(['--resources-path', resources, '--data-dir', path.join(dir, 'data4')], env);
    expect(code).toBe(1);
    expect(output).toContain('initTimout');
  }, 90_000);
});
