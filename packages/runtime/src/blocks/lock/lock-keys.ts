/**
 * The key a lock store sees for a resource, as daprd builds it (`pkg/components/lock/lock_config.go`),
 * so Weft and daprd sidecars on one store take the same locks: `lock||<appId>||<resourceId>` by
 * default; the component's `keyPrefix` metadata picks `appid` (the default), `name` (the store
 * name), `none` (`lock||<resourceId>`) or any other text (used as the prefix itself).
 */
const SEPARATOR = '||';

/** Thrown for a resource id or prefix containing `||`. */
export class IllegalLockKeyError extends Error {
  constructor(key: string) {
    super(`input key/keyPrefix '${key}' can't contain '${SEPARATOR}'`);
    this.name = 'IllegalLockKeyError';
  }
}

/** Checks a `keyPrefix` value at start-up; returns the strategy (lower case, as Dapr compares). */
export function lockKeyStrategy(keyPrefix: string | undefined): string {
  if (keyPrefix === undefined || keyPrefix === '') return 'appid';
  if (keyPrefix.includes(SEPARATOR)) throw new IllegalLockKeyError(keyPrefix);
  return keyPrefix.toLowerCase();
}

/** The store key for `resourceId`. */
export function modifiedLockKey(resourceId: string, strategy: string, storeName: string, appId: string): string {
  if (resourceId.includes(SEPARATOR)) throw new IllegalLockKeyError(resourceId);
  switch (strategy) {
    case 'none':
      return `lock${SEPARATOR}${resourceId}`;
    case 'name':
      return `lock${SEPARATOR}${storeName}${SEPARATOR}${resourceId}`;
    case 'appid':
      return appId === '' ? `lock${SEPARATOR}${resourceId}` : `lock${SEPARATOR}${appId}${SEPARATOR}${resourceId}`;
    default:
      return `lock${SEPARATOR}${strategy}${SEPARATOR}${resourceId}`;
  }
}
