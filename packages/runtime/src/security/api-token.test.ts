import http2 from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { freePort } from '../../../../test/support/weft-process.js';
import { GrpcApiServer } from '../api/grpc/server.js';
import { HttpApiServer } from '../api/http/server.js';
import { GrpcProxy } from '../invoke/grpc-proxy.js';
import { silentLogger } from '../logging/logger.js';
import { tokenMatches } from './api-token.js';
import type * as ApiToken from './api-token.js';

// Every entry point must delegate to the one constant-time check; the spy records that it did.
vi.mock('./api-token.js', async (importOriginal) => {
  const real = await importOriginal<typeof ApiToken>();
  return { ...real, tokenMatches: vi.fn(real.tokenMatches) };
});

const spy = vi.mocked(tokenMatches);
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  spy.mockClear();
  for (const c of cleanups.splice(0)) await c();
});

describe('tokenMatches', () => {
  it('accepts the same token and refuses any other, a prefix, a longer one, a repeated header and none', () => {
    expect(tokenMatches('s3cret', 's3cret')).toBe(true);
    expect(tokenMatches(Buffer.from('s3cret'), Buffer.from('s3cret'))).toBe(true);
    expect(tokenMatches('s3cret', ['s3cret'])).toBe(true);
    expect(tokenMatches('s3cret', 's3creT')).toBe(false);
    expect(tokenMatches('s3cret', 's3cre')).toBe(false);
    expect(tokenMatches('s3cret', 's3cret!')).toBe(false);
    expect(tokenMatches('s3cret', ['s3cret', 's3cret'])).toBe(false);
    expect(tokenMatches('s3cret', undefined)).toBe(false);
    expect(tokenMatches('s3cret', null)).toBe(false);
    expect(tokenMatches('', '')).toBe(false);
  });
});

describe('every API entry point checks dapr-api-token through tokenMatches', () => {
  it('the HTTP API answers 401 through the shared check', async () => {
    const server = new HttpApiServer({ routes: [], logger: silentLogger(), maxRequestBodyBytes: 1024, apiToken: 's3cret' });
    const port = await server.listen(await freePort(), '127.0.0.1');
    cleanups.push(() => server.close());
    const res = await fetch(`http://127.0.0.1:${port}/v1.0/state/x/k`, { headers: { 'dapr-api-token': 'wrong' } });
    expect(res.status).toBe(401);
    expect(spy).toHaveBeenCalledWith(Buffer.from('s3cret'), 'wrong');
  });

  it('the gRPC API refuses a wrong token through the shared check', () => {
    const server = new GrpcApiServer({ logger: silentLogger(), apiToken: 's3cret', maxMessageBytes: 1024 });
    const metadata = new grpc.Metadata();
    metadata.set('dapr-api-token', 'wrong');
    expect(server.authorized({ metadata })).toBe(false);
    expect(spy).toHaveBeenCalledWith('s3cret', ['wrong']);
    metadata.set('dapr-api-token', 's3cret');
    expect(server.authorized({ metadata })).toBe(true);
  });

  it('the gRPC proxy answers UNAUTHENTICATED through the shared check', async () => {
    const proxy = new GrpcProxy({
      appId: 'caller',
      namespace: '',
      resolver: { resolve: () => Promise.reject(new Error('not reached')) } as never,
      acl: undefined,
      apiToken: 's3cret',
      app: () => undefined,
      logger: silentLogger(),
    });
    const server = http2.createServer();
    server.on('stream', (stream, headers) => {
      if (!proxy.handle(stream, headers)) stream.respond({ ':status': 404 }, { endStream: true });
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    const client = http2.connect(`http://127.0.0.1:${port}`);
    cleanups.push(() => new Promise<void>((resolve) => {
      client.close();
      proxy.close();
      server.close(() => resolve());
    }));
    const req = client.request({ ':method': 'POST', ':path': '/greeter.Greeter/Hello', 'content-type': 'application/grpc', 'dapr-app-id': 'callee', 'dapr-api-token': 'wrong' });
    req.end();
    const headers = await new Promise<http2.IncomingHttpHeaders>((resolve) => req.on('response', resolve));
    req.resume();
    expect(headers['grpc-status']).toBe(String(grpc.status.UNAUTHENTICATED));
    expect(spy).toHaveBeenCalledWith('s3cret', 'wrong');
  });
});
