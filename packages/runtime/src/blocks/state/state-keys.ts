/**
 * How Dapr turns a user key into a stored key: `appid||key` by default, or by the component's
 * `keyPrefix` metadata (`appid`, `name`, `namespace`, `none`, or a custom prefix).
 */
import { stateErrors } from '../../errors/index.js';
import { readProperty } from '../../components/metadata.js';
import type { MetadataProperties } from '../../components/metadata.js';

const SEPARATOR = '||';

/** Computes the stored-key prefix for one state component. */
export function keyPrefixFor(props: MetadataProperties, storeName: string, appId: string, namespace: string): string {
  const strategy = readProperty(props, 'keyPrefix') ?? 'appid';
  switch (strategy.toLowerCase()) {
    case '':
    case 'appid':
      return appId === '' ? '' : `${appId}${SEPARATOR}`;
    case 'name':
      return `${storeName}${SEPARATOR}`;
    case 'namespace':
      return namespace ? `${namespace}.${appId}${SEPARATOR}` : `${appId}${SEPARATOR}`;
    case 'none':
      return '';
    default:
      if (strategy.includes(SEPARATOR)) throw stateErrors.illegalKey(strategy);
      return `${strategy}${SEPARATOR}`;
  }
}

/** Rejects keys Dapr rejects: empty, or containing the `||` separator. */
export function validateUserKey(key: string): void {
  if (key === '') throw stateErrors.keyRequired();
  if (key.includes(SEPARATOR)) throw stateErrors.illegalKey(key);
}
