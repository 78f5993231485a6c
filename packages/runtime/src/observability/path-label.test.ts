import { describe, expect, it } from 'vitest';
import { withoutKeySegment } from './metrics.js';

describe('metric path labels', () => {
  it('drops the key from state and secret paths so the label set stays bounded', () => {
    expect(withoutKeySegment('/v1.0/state/statestore/order-1')).toBe('/v1.0/state/statestore');
    expect(withoutKeySegment('/v1.0/secrets/vault/db-password')).toBe('/v1.0/secrets/vault');
    expect(withoutKeySegment('/v1.0/state/statestore/bulk')).toBe('/v1.0/state/statestore');
  });

  it('keeps other paths as they are', () => {
    expect(withoutKeySegment('/v1.0/state/statestore')).toBe('/v1.0/state/statestore');
    expect(withoutKeySegment('/v1.0/publish/pubsub/orders')).toBe('/v1.0/publish/pubsub/orders');
    expect(withoutKeySegment('/v1.0/metadata')).toBe('/v1.0/metadata');
  });
});
