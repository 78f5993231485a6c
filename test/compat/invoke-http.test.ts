/**
 * `@dapr/dapr` service invocation in HTTP mode across two Weft processes: `server.invoker.listen` on
 * the callee app behind one `weft sidecar`, `client.invoker.invoke` through another.
 */
import { HttpMethod } from '@dapr/dapr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInvokePair } from './support/invoke-pair.js';
import type { InvokePair } from './support/invoke-pair.js';

describe('@dapr/dapr invoker over HTTP across two Weft sidecars', () => {
  let pair: InvokePair;
  let callee: string;
  let client: InvokePair['client'];

  beforeAll(async () => {
    pair = await startInvokePair('http');
    ({ callee, client } = pair);
  }, 60_000);

  afterAll(async () => {
    await pair?.stop();
  });

  it('invokes a POST method with a JSON body and custom headers and parses the JSON answer', async () => {
    const result = await client.invoker.invoke(callee, 'hello-world', HttpMethod.POST, { hello: 'world' }, { headers: { 'x-foo': 'bar' } });
    expect(result).toEqual({ echo: JSON.stringify({ hello: 'world' }), query: '/hello-world', foo: 'bar' });
  });

  it('invokes a GET method with a query string', async () => {
    const result = await client.invoker.invoke(callee, 'hello-world?a=1&b=2', HttpMethod.GET);
    expect(result).toEqual({ method: 'GET', query: '/hello-world?a=1&b=2' });
  });

  it('carries a 5 MB payload through both sidecars', async () => {
    const payload = { data: 'x'.repeat(5 * 1024 * 1024) };
    const result = await client.invoker.invoke(callee, 'big', HttpMethod.POST, payload);
    expect(result).toEqual({ length: JSON.stringify(payload).length });
  });
});
