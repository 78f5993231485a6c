/**
 * The cryptography provider contract (`crypto.*` components): wrap and unwrap keys with a key the
 * component holds, and hand out the public part of an asymmetric key. Key material never leaves the
 * component except as a public key.
 *
 * Deliberately not in the contract: the streaming encryption scheme (`blocks/crypto/scheme.ts`), which
 * the building block runs for every provider, and the subtle encrypt/decrypt/sign/verify operations,
 * which daprd only builds behind the `subtlecrypto` build tag (release builds answer UNIMPLEMENTED).
 */
import type { KeyObject } from 'node:crypto';
import type { Component } from '../component.js';

/** Thrown when the named key does not exist (or is not of a kind the operation can use). */
export class KeyNotFoundError extends Error {
  constructor() {
    super('key not found');
    this.name = 'KeyNotFoundError';
  }
}

/** A cryptography provider. */
export interface CryptoProvider extends Component {
  /** The public part of an asymmetric key; {@link KeyNotFoundError} for a symmetric one. */
  getKey(keyName: string): Promise<KeyObject>;
  /** Encrypts `plaintextKey` with the named key using a key wrap algorithm (`A256KW`, `RSA-OAEP-256` …). */
  wrapKey(plaintextKey: Buffer, algorithm: string, keyName: string): Promise<Buffer>;
  /** Reverses {@link wrapKey}. */
  unwrapKey(wrappedKey: Buffer, algorithm: string, keyName: string): Promise<Buffer>;
}

/** Narrows a loaded component to a {@link CryptoProvider}. */
export function isCryptoProvider(component: unknown): component is CryptoProvider {
  const c = component as Partial<CryptoProvider> | undefined;
  return typeof c?.wrapKey === 'function' && typeof c.unwrapKey === 'function' && typeof c.getKey === 'function';
}
