import { describe, expect, it } from 'vitest';
import { AppNotFoundError } from '../resolver.js';
import { KubernetesResolver } from './kubernetes-resolver.js';

describe('KubernetesResolver', () => {
  it('resolves a bare app id to the <app-id>-dapr service in its own namespace', async () => {
    const resolver = new KubernetesResolver({ namespace: 'shop' });
    await expect(resolver.resolve('orders')).resolves.toEqual({ host: 'orders-dapr.shop.svc.cluster.local', port: 50002, grpcPort: 50001 });
  });

  it('resolves app-id.namespace to the service in that namespace', async () => {
    const resolver = new KubernetesResolver({ namespace: 'shop' });
    await expect(resolver.resolve('billing.finance')).resolves.toEqual({ host: 'billing-dapr.finance.svc.cluster.local', port: 50002, grpcPort: 50001 });
  });

  it('uses the default namespace, cluster domain and port it is given', () => {
    expect(new KubernetesResolver().address('orders')).toEqual({ host: 'orders-dapr.default.svc.cluster.local', port: 50002, grpcPort: 50001 });
    expect(new KubernetesResolver({ clusterDomain: 'corp.internal', port: 3501 }).address('a.b')).toEqual({
      host: 'a-dapr.b.svc.corp.internal',
      port: 3501,
      grpcPort: 50001,
    });
  });

  it('rejects an app id that is not a DNS label with AppNotFoundError', async () => {
    const resolver = new KubernetesResolver();
    await expect(resolver.resolve('Bad_Id')).rejects.toBeInstanceOf(AppNotFoundError);
    await expect(resolver.resolve('ok.Bad_NS')).rejects.toThrow(/invalid app id or namespace/);
  });
});
