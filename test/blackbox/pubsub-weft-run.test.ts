/**
 * Acceptance: two apps started with `weft run` and no resources path exchange events through the
 * embedded default (`./.weft/pubsub.sqlite`, shared because they run in one directory), and events
 * published while the subscriber was down arrive when it comes back.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/subscriber-app.js';
import { WEFT_BIN, freePort } from '../support/weft-process.js';

const SUBSCRIBER = `
import http from 'node:http';
import fs from 'node:fs';
const out = process.argv[2];
http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => (body += c));
  req.on('end', () => {
    if (req.url === '/dapr/subscribe') {
      res.writeHead(200, { 'content-type': 'application/json' });
      return res.end(JSON.stringify([{ pubsubname: 'pubsub', topic: 'orders', route: '/orders' }]));
    }
    if (req.url !== '/orders') return res.writeHead(404).end(); // /dapr/config: no actors here
    fs.appendFileSync(out, JSON.stringify(JSON.parse(body).data) + '\\n');
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end('{"status":"SUCCESS"}');
  });
}).listen(Number(process.env.APP_PORT), '127.0.0.1');
`;

const PUBLISHER = `
const [from, to] = process.argv.slice(2).map(Number);
for (let n = from; n <= to; n++) {
  const res = await fetch('http://127.0.0.1:' + process.env.DAPR_HTTP_PORT + '/v1.0/publish/pubsub/orders', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ n }),
  });
  if (res.status !== 204) { console.error('publish failed', res.status, await res.text()); process.exit(1); }
}
`;

let dir: string;
const running = new Set<ChildProcess>();

function weftRun(args: string[]): { child: ChildProcess; exited: Promise<number | null>; output: () => string } {
  const child = spawn(process.execPath, [WEFT_BIN, 'run', '--dapr-http-port', '0', '--dapr-grpc-port', '0', '--log-level', 'info', ...args], {
    cwd: dir,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
  running.add(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => {
    running.delete(child);
    resolve(code);
  }));
  return { child, exited, output: () => output };
}

/** Waits for `count` events; on a timeout the error carries what the `weft run` processes printed. */
async function receivedAtLeast(count: number, what: string, runs: readonly { output: () => string }[]): Promise<void> {
  try {
    await eventually(async () => (await received()).length >= count, 20_000, what);
  } catch (err) {
    const outputs = runs.map((r, i) => `--- weft run #${i + 1} ---\n${r.output().slice(-8000)}`).join('\n');
    throw new Error(`${(err as Error).message}; received ${JSON.stringify(await received())}\n${outputs}`);
  }
}

async function received(): Promise<number[]> {
  const text = await fs.readFile(path.join(dir, 'received.txt'), 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((l) => (JSON.parse(l) as { n: number }).n);
}

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-run-pubsub-'));
  await fs.writeFile(path.join(dir, 'subscriber.mjs'), SUBSCRIBER);
  await fs.writeFile(path.join(dir, 'publisher.mjs'), PUBLISHER);
});

afterAll(async () => {
  for (const child of running) child.kill('SIGTERM');
  await fs.rm(dir, { recursive: true, force: true });
});

describe('weft run with the embedded pub/sub default', () => {
  it('delivers events between two apps, including those published while the subscriber was down', async () => {
    const appPort = await freePort();
    const startSubscriber = () => weftRun(['--app-id', 'orders-sub', '--app-port', String(appPort), '--', 'node', 'subscriber.mjs', 'received.txt']);
    let subscriber = startSubscriber();
    // Publishing may start before the subscriber subscribed: its group starts at the oldest retained event.
    const first = weftRun(['--app-id', 'orders-pub', '--', 'node', 'publisher.mjs', '1', '5']);
    expect(await first.exited).toBe(0);
    await receivedAtLeast(5, 'first five events', [subscriber, first]);
    expect(await received()).toHaveLength(5);

    subscriber.child.kill('SIGTERM');
    await subscriber.exited;
    const whileDown = weftRun(['--app-id', 'orders-pub', '--', 'node', 'publisher.mjs', '6', '10']);
    expect(await whileDown.exited).toBe(0);
    expect(await received()).toHaveLength(5);

    subscriber = startSubscriber();
    await receivedAtLeast(10, 'events published while down', [subscriber, whileDown]);
    expect((await received()).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    subscriber.child.kill('SIGTERM');
    await subscriber.exited;
  });
});
