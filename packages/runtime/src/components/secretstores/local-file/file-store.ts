/**
 * `secretstores.local.file`: secrets from a JSON file. Nested objects are flattened with
 * `nestedSeparator` ("a:b"); with `multiValued: true` each top-level key is one secret whose nested
 * values are its key/value pairs, as Dapr's local file store does.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import type { ComponentContext } from '../../component.js';
import type { MetadataProperties } from '../../metadata.js';
import { MetadataError, readBool, readString, requireString } from '../../metadata.js';
import type { Secret, SecretStore, SecretStoreFeature } from '../store.js';
import { SecretNotFoundError } from '../store.js';

function flatten(value: unknown, separator: string, prefix: string, out: Record<string, string>): void {
  if (typeof value === 'object' && value !== null) {
    // Arrays flatten by index ("hosts:0"), as Dapr's store does.
    const entries = Array.isArray(value) ? value.map((child, i): [string, unknown] => [String(i), child]) : Object.entries(value);
    for (const [key, child] of entries) {
      flatten(child, separator, prefix === '' ? key : `${prefix}${separator}${key}`, out);
    }
    return;
  }
  out[prefix] = typeof value === 'string' ? value : JSON.stringify(value);
}

/** JSON-file secret store. */
export class FileSecretStore implements SecretStore {
  private secrets: Record<string, Secret> = {};
  private multiValued = false;

  async init(props: MetadataProperties, _context: ComponentContext): Promise<void> {
    const file = path.resolve(requireString(props, 'secretsFile'));
    const separator = readString(props, 'nestedSeparator', ':');
    this.multiValued = readBool(props, 'multiValued', false);
    let parsed: unknown;
    try {
      parsed = JSON.parse(await fs.readFile(file, 'utf8'));
    } catch (err) {
      throw new MetadataError('secretsFile', `cannot read JSON secrets from ${file}: ${(err as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
      throw new MetadataError('secretsFile', `${file} must hold a JSON object`);
    }
    this.secrets = {};
    for (const [name, value] of Object.entries(parsed)) {
      if (this.multiValued && typeof value === 'object' && value !== null && !Array.isArray(value)) {
        const pairs: Record<string, string> = {};
        flatten(value, separator, '', pairs);
        this.secrets[name] = pairs;
      } else {
        const flat: Record<string, string> = {};
        flatten(value, separator, name, flat);
        for (const [flatName, flatValue] of Object.entries(flat)) this.secrets[flatName] = { [flatName]: flatValue };
      }
    }
  }

  features(): readonly SecretStoreFeature[] {
    return this.multiValued ? ['MULTIPLE_KEY_VALUES_PER_SECRET'] : [];
  }

  async getSecret(name: string): Promise<Secret> {
    const secret = Object.hasOwn(this.secrets, name) ? this.secrets[name] : undefined;
    if (!secret) throw new SecretNotFoundError(name);
    return { ...secret };
  }

  async bulkGetSecret(): Promise<Record<string, Secret>> {
    return structuredClone(this.secrets);
  }

  async close(): Promise<void> {}
}
