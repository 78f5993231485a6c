import { describe, expect, it } from 'vitest';
import { createResolver } from './create-resolver.js';

describe('createResolver', () => {
  it('picks the local registry by default and for mdns, and Kubernetes DNS when configured', async () => {
    expect(createResolver({ namespace: '', env: {} }).name).toBe('local');
    expect(createResolver({ component: 'mdns', namespace: '', env: {} }).name).toBe('local');
    const k8s = createResolver({ component: 'kubernetes', namespace: 'shop', env: {}, configuration: { clusterDomain: 'c.local', port: 3502 } });
    expect(k8s.name).toBe('kubernetes');
    await expect(k8s.resolve('cart')).resolves.toMatchObject({ host: 'cart-dapr.shop.svc.c.local', port: 3502 });
  });

  it('refuses an unknown component at start-up', () => {
    expect(() => createResolver({ component: 'consul', namespace: '', env: {} })).toThrow(/unknown name resolution component "consul"/);
  });
});
