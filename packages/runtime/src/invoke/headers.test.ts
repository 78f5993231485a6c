import { describe, expect, it } from 'vitest';
import { childTraceparent, outboundInvokeHeaders, passThroughHeaders } from './headers.js';

describe('invocation headers', () => {
  it('keeps the trace id and flags of an incoming traceparent with a new span id', () => {
    const incoming = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const child = childTraceparent(incoming);
    expect(child).toMatch(/^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$/);
    expect(child).not.toBe(incoming);
    expect(childTraceparent(undefined)).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/);
  });

  it('drops hop-by-hop headers', () => {
    expect(passThroughHeaders({ connection: 'keep-alive', 'transfer-encoding': 'chunked', host: 'h', 'x-a': '1' })).toEqual({ 'x-a': '1' });
  });

  it('adds caller and callee ids and forwarding headers, and removes the API token and target headers', () => {
    const headers = outboundInvokeHeaders(
      { 'dapr-api-token': 't', 'dapr-app-id': 'b', host: 'localhost:3500', 'x-foo': 'bar', authorization: 'Bearer x' },
      { appId: 'b', method: '/m', query: '', via: 'header' },
      'b',
      { appId: 'a', namespace: '', remoteAddress: '::ffff:127.0.0.1', sidecarAddress: '127.0.0.1' },
    );
    expect(headers).toMatchObject({
      'x-foo': 'bar',
      authorization: 'Bearer x',
      'dapr-caller-app-id': 'a',
      'dapr-callee-app-id': 'b',
      'x-forwarded-for': '127.0.0.1',
      'x-forwarded-host': 'localhost:3500',
      forwarded: 'by=127.0.0.1;for=127.0.0.1;host=localhost:3500',
    });
    expect(headers['dapr-api-token']).toBeUndefined();
    expect(headers['dapr-app-id']).toBeUndefined();
    expect(headers['dapr-caller-namespace']).toBeUndefined();
  });

  it('removes the authorization header that carried the basic-auth target', () => {
    const headers = outboundInvokeHeaders(
      { authorization: 'Basic eA==' },
      { appId: 'b', method: '/m', query: '', via: 'basic-auth' },
      'b',
      { appId: 'a', namespace: 'ns', remoteAddress: undefined, sidecarAddress: '127.0.0.1' },
    );
    expect(headers.authorization).toBeUndefined();
    expect(headers['dapr-caller-namespace']).toBe('ns');
  });
});
