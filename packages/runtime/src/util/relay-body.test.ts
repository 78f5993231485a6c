import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough, Readable } from 'node:stream';
import { afterEach, expect, it } from 'vitest';
import { relayBody } from './relay-body.js';

let server: http.Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** Serves each request by relaying `body()` and reports how the relay ended. */
async function serve(body: () => Readable): Promise<{ url: string; outcome: Promise<string> }> {
  let settle: (v: string) => void = () => {};
  const outcome = new Promise<string>((resolve) => (settle = resolve));
  server = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    relayBody(body(), res).then(
      () => settle('resolved'),
      (err: unknown) => {
        res.destroy();
        settle(`rejected: ${(err as Error).message}`);
      },
    );
  });
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server?.address() as AddressInfo).port}/`, outcome };
}

it('relays the whole body and resolves once the response is done', async () => {
  const { url, outcome } = await serve(() => Readable.from(['hello ', 'world']));
  expect(await (await fetch(url)).text()).toBe('hello world');
  expect(await outcome).toBe('resolved');
});

it('rejects and cuts the response when the upstream body fails midway', async () => {
  const { url, outcome } = await serve(() => {
    const upstream = new PassThrough();
    upstream.write('partial');
    setTimeout(() => upstream.destroy(new Error('upstream reset')), 50);
    return upstream;
  });
  const res = await fetch(url);
  await expect(res.text()).rejects.toThrow();
  expect(await outcome).toBe('rejected: upstream reset');
});

it('stops the upstream when the client goes away before the end', async () => {
  let upstream: PassThrough | undefined;
  const { url, outcome } = await serve(() => {
    upstream = new PassThrough();
    upstream.write('first chunk');
    return upstream;
  });
  const controller = new AbortController();
  const res = await fetch(url, { signal: controller.signal });
  const reader = res.body?.getReader();
  await reader?.read();
  controller.abort();
  expect(await outcome).toMatch(/^rejected: the client closed/);
  expect(upstream?.destroyed).toBe(true);
});
