/**
 * Secret scopes (Configuration `spec.secrets.scopes`) as a {@link SecretAccessPolicy} for the secrets
 * block. Dapr's rule, per store: a non-empty `allowedSecrets` list is the whole truth; otherwise a
 * secret in `deniedSecrets` is denied; otherwise `defaultAccess` decides (allow when unset). Stores
 * without a scope entry are unrestricted.
 */
import type { SecretAccessPolicy } from '../blocks/secrets/secrets-block.js';
import { allowAllSecrets } from '../blocks/secrets/secrets-block.js';
import type { SecretScope } from './configuration-schema.js';

/** True when the scope lets `key` be read. */
export function isSecretAllowed(scope: SecretScope, key: string): boolean {
  const allowed = scope.allowedSecrets ?? [];
  if (allowed.length > 0) return allowed.includes(key);
  if ((scope.deniedSecrets ?? []).includes(key)) return false;
  return (scope.defaultAccess ?? 'allow') === 'allow';
}

/** The secrets block's access policy for the configured scopes. */
export function secretScopesPolicy(scopes: readonly SecretScope[]): SecretAccessPolicy {
  if (scopes.length === 0) return allowAllSecrets;
  const byStore = new Map(scopes.map((s) => [s.storeName, s]));
  return (storeName, key) => {
    const scope = byStore.get(storeName);
    return scope ? isSecretAllowed(scope, key) : true;
  };
}
