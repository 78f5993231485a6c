/** Black box: `weft publish` publishes through a running `weft sidecar`, and refuses the wrong app id. */
import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startSubscriberApp } from '../support/subscriber-app.js';
import type { SubscriberApp } from '../support/subscriber-app.js';
import { WEFT_BIN, startWeftSidecar } from '../support/weft-process.js';
import type { WeftProcess } from '../support/weft-process.js';

let dir: string;
let app: SubscriberApp;
let weft: WeftProcess;

function weftPublish(args: string[]): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WEFT_BIN, 'publish', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    child.once('exit', (code) => resolve({ code, output }));
  });
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-cli-publish-'));
  app = await startSubscriberApp([{ pubsubname: 'pubsub', topic: 'orders', route: '/orders' }]);
  weft = await startWeftSidecar(['--app-id', 'cli-pub', '--app-port', String(app.port), '--log-level', 'warn'], { cwd: dir });
}, 60_000);

afterAll(async () => {
  await weft?.stop();
  await app?.close();
  await fs.rm(dir, { recursive: true, force: true });
});

describe('weft publish', () => {
  it('publishes JSON data with metadata through the app sidecar', async () => {
    const port = String(weft.httpPort);
    const res = await weftPublish(['--publish-app-id', 'cli-pub', '--pubsub', 'pubsub', '--topic', 'orders', '--data', '{"orderId":7}', '--metadata', '{"ttlInSeconds":"60"}', '--dapr-http-port', port]);
    expect(res).toMatchObject({ code: 0 });
    await app.waitFor((d) => d.length === 1);
    expect(app.deliveries[0]!.body).toMatchObject({ data: { orderId: 7 }, source: 'cli-pub' });
    expect((app.deliveries[0]!.body as { expiration?: string }).expiration).toBeDefined();
  });

  it('exits 1 naming both apps when the sidecar belongs to another app id', async () => {
    const res = await weftPublish(['--publish-app-id', 'someone-else', '--pubsub', 'pubsub', '--topic', 'orders', '--data', '{}', '--dapr-http-port', String(weft.httpPort)]);
    expect(res.code).toBe(1);
    expect(res.output).toContain('belongs to app "cli-pub", not "someone-else"');
  });

  it('exits 1 with the sidecar error for an unknown pubsub', async () => {
    const res = await weftPublish(['--app-id', 'cli-pub', '--pubsub', 'nope', '--topic', 'orders', '--data', '{}', '--dapr-http-port', String(weft.httpPort)]);
    expect(res.code).toBe(1);
    expect(res.output).toContain('ERR_PUBSUB_NOT_FOUND');
  });
});
