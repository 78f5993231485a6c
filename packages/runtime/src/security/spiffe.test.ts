import { describe, expect, it } from 'vitest';
import { formatSpiffeId, parseSpiffeId, spiffeIdOf, subjectAltNames } from './spiffe.js';

describe('SPIFFE IDs', () => {
  it('parses a Dapr SPIFFE ID into trust domain, namespace and app id', () => {
    expect(parseSpiffeId('spiffe://public/ns/default/orders')).toEqual({ trustDomain: 'public', namespace: 'default', appId: 'orders' });
    expect(formatSpiffeId({ trustDomain: 'cluster.local', namespace: 'shop', appId: 'cart' })).toBe('spiffe://cluster.local/ns/shop/cart');
  });

  it('tolerates further path segments after the app id, as daprd does', () => {
    expect(parseSpiffeId('spiffe://public/ns/default/orders/v2')).toEqual({ trustDomain: 'public', namespace: 'default', appId: 'orders' });
  });

  it('rejects URIs that are not of the form spiffe://<td>/ns/<namespace>/<appId>', () => {
    for (const uri of ['https://public/ns/default/orders', 'spiffe://public/sa/default/orders', 'spiffe://public/ns/default', 'spiffe://public/ns//orders', 'spiffe:///ns/default/orders']) {
      expect(parseSpiffeId(uri)).toBeUndefined();
    }
  });

  it("reads Node's subject alternative name string, quoted values included", () => {
    expect(subjectAltNames('DNS:orders, URI:spiffe://public/ns/default/orders, IP Address:127.0.0.1')).toEqual([
      { type: 'DNS', value: 'orders' },
      { type: 'URI', value: 'spiffe://public/ns/default/orders' },
      { type: 'IP Address', value: '127.0.0.1' },
    ]);
    expect(subjectAltNames('DNS:"a, b", URI:spiffe://td/ns/n/x')).toEqual([
      { type: 'DNS', value: 'a, b' },
      { type: 'URI', value: 'spiffe://td/ns/n/x' },
    ]);
    expect(subjectAltNames(undefined)).toEqual([]);
  });

  it('takes the first spiffe:// URI SAN as the identity and ignores DNS names and other URIs', () => {
    expect(spiffeIdOf('DNS:cart, URI:https://example.com/x, URI:spiffe://public/ns/shop/cart, URI:spiffe://public/ns/shop/other')).toEqual({
      trustDomain: 'public',
      namespace: 'shop',
      appId: 'cart',
    });
    expect(spiffeIdOf('DNS:cart')).toBeUndefined();
  });
});
