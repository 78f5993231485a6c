import { describe, expect, it } from 'vitest';
import { ApiError } from '../errors/index.js';
import { findInvokeTarget } from './target.js';

describe('findInvokeTarget', () => {
  it('reads app id and a multi-segment method from the invoke path, keeping the query', () => {
    expect(findInvokeTarget('/v1.0/invoke/orders/method/api/v1/add?x=1&y=2', {})).toEqual({
      appId: 'orders',
      method: '/api/v1/add',
      query: 'x=1&y=2',
      via: 'path',
    });
  });

  it('prefers the dapr-app-id header on any path and uses the whole path as the method', () => {
    expect(findInvokeTarget('/neworder?a=b', { 'dapr-app-id': 'orders' })).toEqual({ appId: 'orders', method: '/neworder', query: 'a=b', via: 'header' });
  });

  it('accepts basic auth with user dapr-app-id', () => {
    const authorization = `Basic ${Buffer.from('dapr-app-id:billing').toString('base64')}`;
    expect(findInvokeTarget('/pay', { authorization })).toMatchObject({ appId: 'billing', method: '/pay', via: 'basic-auth' });
    expect(findInvokeTarget('/pay', { authorization: `Basic ${Buffer.from('bob:pw').toString('base64')}` })).toBeUndefined();
  });

  it('unescapes an app id given as a percent-encoded URL and accepts a raw URL', () => {
    expect(findInvokeTarget('/v1.0/invoke/http%3A%2F%2F127.0.0.1%3A9%2Fapi/method/users', {})).toMatchObject({
      appId: 'http://127.0.0.1:9/api',
      method: '/users',
    });
    expect(findInvokeTarget('/v1.0/invoke/http://example.com/method/users', {})).toMatchObject({ appId: 'http://example.com', method: '/users' });
  });

  it('maps an empty method to / and returns undefined for other API paths', () => {
    expect(findInvokeTarget('/v1.0/invoke/a/method/', {})).toMatchObject({ method: '/' });
    expect(findInvokeTarget('/v1.0/state/store/key', {})).toBeUndefined();
  });

  it('refuses an invoke path without /method/ with 404 ERR_DIRECT_INVOKE', () => {
    for (const url of ['/v1.0/invoke/orders', '/v1.0/invoke//method/x', '/v1.0/invoke/orders/methods/x']) {
      let error: unknown;
      try {
        findInvokeTarget(url, {});
      } catch (err) {
        error = err;
      }
      expect(error, url).toBeInstanceOf(ApiError);
      expect((error as ApiError).httpStatus).toBe(404);
      expect((error as ApiError).code).toBe('ERR_DIRECT_INVOKE');
    }
  });
});
