/**
 * The secrets building block, transport-neutral. Secret scopes (Configuration `secrets.scopes`) plug
 * in through {@link SecretAccessPolicy}; denied secrets answer 403 on a single get and are silently
 * left out of a bulk get, as in Dapr.
 */
import type { ComponentManager } from '../../components/manager.js';
import type { Secret } from '../../components/secretstores/store.js';
import { SecretNotFoundError } from '../../components/secretstores/store.js';
import { errorMessage, secretErrors } from '../../errors/index.js';

/** Decides whether a secret may be read through the API. */
export type SecretAccessPolicy = (storeName: string, secretName: string) => boolean;

/** Allows every secret (no `secrets.scopes` configured). */
export const allowAllSecrets: SecretAccessPolicy = () => true;

/** Secrets API operations over the loaded secret stores. */
export class SecretsBlock {
  constructor(
    private readonly components: ComponentManager,
    private readonly allowed: SecretAccessPolicy = allowAllSecrets,
  ) {}

  /** Reads one secret. */
  async get(storeName: string, key: string, metadata: Readonly<Record<string, string>> = {}): Promise<Secret> {
    const store = this.resolve(storeName);
    if (!this.allowed(storeName, key)) throw secretErrors.permissionDenied(key, storeName);
    try {
      return await store.getSecret(key, metadata);
    } catch (err) {
      if (err instanceof SecretNotFoundError) throw secretErrors.get(key, storeName, err.message);
      throw secretErrors.get(key, storeName, errorMessage(err));
    }
  }

  /** Reads every secret the policy allows. */
  async bulk(storeName: string, metadata: Readonly<Record<string, string>> = {}): Promise<Record<string, Secret>> {
    const store = this.resolve(storeName);
    let all: Record<string, Secret>;
    try {
      all = await store.bulkGetSecret(metadata);
    } catch (err) {
      throw secretErrors.bulkGet(storeName, errorMessage(err));
    }
    const visible: Record<string, Secret> = {};
    for (const [name, secret] of Object.entries(all)) {
      if (this.allowed(storeName, name)) visible[name] = secret;
    }
    return visible;
  }

  private resolve(storeName: string) {
    if (this.components.ofKind('secretstores').length === 0) throw secretErrors.storesNotConfigured();
    const store = this.components.secretStore(storeName);
    if (!store) throw secretErrors.storeNotFound(storeName);
    return store;
  }
}
