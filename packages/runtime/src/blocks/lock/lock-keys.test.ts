import { describe, expect, it } from 'vitest';
import { IllegalLockKeyError, lockKeyStrategy, modifiedLockKey } from './lock-keys.js';

describe('modifiedLockKey', () => {
  it("builds daprd's keys for each keyPrefix strategy", () => {
    expect(modifiedLockKey('res', lockKeyStrategy(undefined), 'store', 'app')).toBe('lock||app||res');
    expect(modifiedLockKey('res', lockKeyStrategy('appid'), 'store', '')).toBe('lock||res');
    expect(modifiedLockKey('res', lockKeyStrategy('NAME'), 'store', 'app')).toBe('lock||store||res');
    expect(modifiedLockKey('res', lockKeyStrategy('none'), 'store', 'app')).toBe('lock||res');
    expect(modifiedLockKey('res', lockKeyStrategy('Shared'), 'store', 'app')).toBe('lock||shared||res');
  });

  it('rejects a resource id or prefix containing "||"', () => {
    expect(() => modifiedLockKey('a||b', 'appid', 's', 'app')).toThrow(IllegalLockKeyError);
    expect(() => lockKeyStrategy('x||y')).toThrow("input key/keyPrefix 'x||y' can't contain '||'");
  });
});
