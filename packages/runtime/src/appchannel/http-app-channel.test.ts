import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppUnreachableError } from './app-channel.js';
import { HttpAppChannel } from './http-app-channel.js';

describe('HttpAppChannel', () => {
  let server: http.Server;
  let port: number;
  const seen: { method?: string; url?: string; token?: string; body: string }[] = [];

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method, url: req.url, token: req.headers['dapr-api-token'] as string | undefined, body });
        res.writeHead(req.url?.startsWith('/fail') ? 503 : 200, { 'x-app': 'yes' });
        res.end(`echo:${body}`);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('sends method, path, query and body and returns status, headers and body unchanged', async () => {
    const channel = new HttpAppChannel({ host: '127.0.0.1', port });
    const response = await channel.call({ method: 'PUT', path: '/orders/1', query: 'a=1&b=2', body: 'payload' });
    await channel.close();
    expect(response.status).toBe(200);
    expect(response.headers['x-app']).toBe('yes');
    expect(response.body.toString()).toBe('echo:payload');
    expect(seen.at(-1)).toMatchObject({ method: 'PUT', url: '/orders/1?a=1&b=2', body: 'payload' });
    expect(seen.at(-1)?.token).toBeUndefined();
  });

  it('passes 5xx answers through instead of throwing', async () => {
    const channel = new HttpAppChannel({ host: '127.0.0.1', port });
    const response = await channel.call({ method: 'GET', path: '/fail' });
    await channel.close();
    expect(response.status).toBe(503);
  });

  it('adds APP_API_TOKEN as the dapr-api-token header', async () => {
    const channel = new HttpAppChannel({ host: '127.0.0.1', port, appApiToken: 's3cret' });
    await channel.call({ method: 'POST', path: '/x', body: '{}' });
    await channel.close();
    expect(seen.at(-1)?.token).toBe('s3cret');
  });

  it('rejects with AppUnreachableError when nothing listens on the app port', async () => {
    const free = http.createServer();
    await new Promise<void>((resolve) => free.listen(0, '127.0.0.1', resolve));
    const closedPort = (free.address() as AddressInfo).port;
    await new Promise<void>((resolve) => free.close(() => resolve()));
    const channel = new HttpAppChannel({ host: '127.0.0.1', port: closedPort });
    await expect(channel.call({ method: 'GET', path: '/' })).rejects.toBeInstanceOf(AppUnreachableError);
    await channel.close();
  });
});
