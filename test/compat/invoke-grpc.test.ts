/**
 * `@dapr/dapr` service invocation in gRPC mode across two Weft processes: `server.invoker.listen` on
 * the callee app behind one `weft sidecar`, `client.invoker.invoke` through another.
 */
import { HttpMethod } from '@dapr/dapr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInvokePair } from './support/invoke-pair.js';
import type { InvokePair } from './support/invoke-pair.js';

describe('@dapr/dapr invoker over gRPC across two Weft sidecars (InvokeService → AppCallback.OnInvoke)', () => {
  let pair: InvokePair;
  let callee: string;
  let client: InvokePair['client'];
  let callerSidecar: InvokePair['callerSidecar'];

  beforeAll(async () => {
    pair = await startInvokePair('grpc');
    ({ callee, client, callerSidecar } = pair);
  }, 60_000);

  afterAll(async () => {
    await pair?.stop();
  });

  it('invokes a POST method with a JSON body and parses the JSON answer', async () => {
    // In gRPC mode the SDK drops custom headers on the client and hands the handler no headers.
    const result = await client.invoker.invoke(callee, 'hello-world', HttpMethod.POST, { hello: 'world' }, { headers: { 'x-foo': 'bar' } });
    expect(result).toEqual({ echo: JSON.stringify({ hello: 'world' }), query: '', foo: null });
  });

  it('invokes a GET method with a query string', async () => {
    const result = await client.invoker.invoke(callee, 'hello-world?a=1&b=2', HttpMethod.GET);
    // The SDK's gRPC server hands the handler `http_extension.querystring`.
    expect(result).toEqual({ method: 'GET', query: 'a=1&b=2' });
  });

  it('carries a 5 MB payload through both sidecars', async () => {
    const payload = { data: 'x'.repeat(5 * 1024 * 1024) };
    const result = await client.invoker.invoke(callee, 'big', HttpMethod.POST, payload);
    expect(result).toEqual({ length: JSON.stringify(payload).length });
  });

  it('lets a plain HTTP caller invoke the gRPC app through both sidecars', async () => {
    const res = await fetch(`http://127.0.0.1:${callerSidecar.httpPort}/v1.0/invoke/${callee}/method/hello-world`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ via: 'http' }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toEqual({ echo: JSON.stringify({ via: 'http' }), query: '', foo: null });
  });
});
