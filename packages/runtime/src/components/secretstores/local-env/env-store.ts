/**
 * `secretstores.local.env`: secrets from the sidecar's environment. With `prefix`, only variables
 * starting with it are visible and names are given without it. Never exposes the sidecar's own
 * credentials (`APP_API_TOKEN`, `DAPR_*`), as Dapr's store refuses them too.
 *
 * Like Dapr's store, a get never fails: an unset or protected variable reads as an empty value
 * (`{"NAME": ""}`), so apps see the same 200 they would see with daprd.
 */
import type { ComponentContext } from '../../component.js';
import type { MetadataProperties } from '../../metadata.js';
import { readString } from '../../metadata.js';
import type { Secret, SecretStore, SecretStoreFeature } from '../store.js';

function isProtected(variable: string): boolean {
  const upper = variable.toUpperCase();
  return upper === 'APP_API_TOKEN' || upper.startsWith('DAPR_');
}

/** Environment-variable secret store. */
export class EnvSecretStore implements SecretStore {
  private prefix = '';
  private env: Readonly<Record<string, string | undefined>> = {};

  async init(props: MetadataProperties, context: ComponentContext): Promise<void> {
    this.prefix = readString(props, 'prefix', '');
    this.env = context.env;
  }

  features(): readonly SecretStoreFeature[] {
    return [];
  }

  async getSecret(name: string): Promise<Secret> {
    const variable = this.prefix + name;
    const value = isProtected(variable) ? undefined : this.env[variable];
    return { [name]: value ?? '' };
  }

  async bulkGetSecret(): Promise<Record<string, Secret>> {
    const all: Record<string, Secret> = {};
    for (const [variable, value] of Object.entries(this.env)) {
      if (value === undefined || isProtected(variable) || !variable.startsWith(this.prefix)) continue;
      const name = variable.slice(this.prefix.length);
      if (name === '') continue;
      all[name] = { [name]: value };
    }
    return all;
  }

  async close(): Promise<void> {}
}
