import { describe, expect, it } from 'vitest';
import { SERVICE_ACCOUNT_NAMESPACE_FILE, nameResolutionComponent, podNamespace } from './kubernetes-mode.js';

describe('podNamespace', () => {
  it('takes NAMESPACE first, as Dapr\'s injector sets it from the downward API', () => {
    expect(podNamespace({ NAMESPACE: 'shop' }, () => 'other\n')).toBe('shop');
  });

  it('falls back to the service-account namespace file, trimmed', () => {
    const read = (file: string) => (file === SERVICE_ACCOUNT_NAMESPACE_FILE ? 'shop-prod\n' : undefined);
    expect(podNamespace({}, read)).toBe('shop-prod');
    expect(podNamespace({ NAMESPACE: '  ' }, read)).toBe('shop-prod');
  });

  it('uses default when neither is there', () => {
    expect(podNamespace({}, () => undefined)).toBe('default');
    expect(podNamespace({}, () => '')).toBe('default');
  });
});

describe('nameResolutionComponent', () => {
  it('resolves through Kubernetes DNS in Kubernetes mode unless the Configuration names a resolver', () => {
    expect(nameResolutionComponent(undefined, 'kubernetes')).toBe('kubernetes');
    expect(nameResolutionComponent('mdns', 'kubernetes')).toBe('mdns');
  });

  it('leaves standalone mode to the local registry', () => {
    expect(nameResolutionComponent(undefined, 'standalone')).toBeUndefined();
    expect(nameResolutionComponent('kubernetes', 'standalone')).toBe('kubernetes');
  });
});
