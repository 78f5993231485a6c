/**
 * The secret store contract: read one secret (a map of one or more key/value pairs) or all of them.
 *
 * Deliberately not in the contract: secret scopes (`Configuration.secrets.scopes`), which the secrets
 * building block applies for every driver, and writes, which Dapr's API does not have.
 */
import type { Component } from '../component.js';

/** Capabilities a secret store declares. */
export type SecretStoreFeature = 'MULTIPLE_KEY_VALUES_PER_SECRET';

/** A secret: one or more named values. */
export type Secret = Record<string, string>;

/** Thrown when the secret does not exist. */
export class SecretNotFoundError extends Error {
  constructor(name: string) {
    super(`secret ${name} not found`);
    this.name = 'SecretNotFoundError';
  }
}

/** The required part of every secret store. */
export interface SecretStore extends Component {
  features(): readonly SecretStoreFeature[];
  /**
   * Throws {@link SecretNotFoundError} for an unknown name, except in stores where Dapr answers an
   * unknown name with an empty value (`secretstores.local.env`: `{"NAME": ""}`).
   */
  getSecret(name: string, metadata: Readonly<Record<string, string>>): Promise<Secret>;
  /** Every secret, keyed by secret name. */
  bulkGetSecret(metadata: Readonly<Record<string, string>>): Promise<Record<string, Secret>>;
}
