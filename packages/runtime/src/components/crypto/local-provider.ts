/**
 * The part every provider that holds its keys in the sidecar shares (components-contrib's
 * `LocalCryptoBaseComponent`): key use checks from the JWK's `use`, `key_ops` and `alg`, and the key
 * wrap algorithms, all on Node's `crypto`. Drivers only say how to find a key by name.
 */
import crypto from 'node:crypto';
import type { ComponentContext } from '../component.js';
import type { MetadataProperties } from '../metadata.js';
import type { StoredKey } from './keys.js';
import type { CryptoProvider } from './provider.js';
import { KeyNotFoundError } from './provider.js';

/** RFC 3394's default initial value. */
const AES_KW_IV = Buffer.from('A6A6A6A6A6A6A6A6', 'hex');

const keyTypeMismatch = () => new Error('key type mismatch');

/** True when the JWK's `key_ops`/`use` allow the operation (either absent allows all). */
export function keyCanPerformOperation(key: StoredKey, op: 'wrapKey' | 'unwrapKey'): boolean {
  if (key.keyOps && key.keyOps.length > 0 && !key.keyOps.includes(op)) return false;
  if (key.use) return key.use === 'enc';
  return true;
}

/** True when the JWK has no `alg` or names exactly this one. */
export function keyCanPerformAlgorithm(key: StoredKey, algorithm: string): boolean {
  return !key.alg || key.alg === algorithm;
}

function secretBytes(key: StoredKey): Buffer {
  if (key.key.type !== 'secret') throw keyTypeMismatch();
  return key.key.export();
}

function aesKwSize(algorithm: string): number | undefined {
  return { A128KW: 16, A192KW: 24, A256KW: 32 }[algorithm];
}

function aesCbcSize(algorithm: string): number | undefined {
  return { 'A128CBC-NOPAD': 16, 'A192CBC-NOPAD': 24, 'A256CBC-NOPAD': 32, A128CBC: 16, A192CBC: 24, A256CBC: 32 }[algorithm];
}

function oaepHash(algorithm: string): string | undefined {
  return { 'RSA-OAEP': 'sha1', 'RSA-OAEP-256': 'sha256', 'RSA-OAEP-384': 'sha384', 'RSA-OAEP-512': 'sha512' }[algorithm];
}

function rsaKey(key: StoredKey, needPrivate: boolean): crypto.KeyObject {
  if (key.key.asymmetricKeyType !== 'rsa') throw keyTypeMismatch();
  if (needPrivate) {
    if (key.key.type !== 'private') throw keyTypeMismatch();
    return key.key;
  }
  return key.key.type === 'private' ? crypto.createPublicKey(key.key) : key.key;
}

/** Encrypts with a key wrap algorithm; errors are dapr/kit's texts. */
function wrap(plaintext: Buffer, algorithm: string, key: StoredKey): Buffer {
  const kw = aesKwSize(algorithm);
  if (kw !== undefined) {
    const bytes = secretBytes(key);
    if (bytes.length !== kw) throw keyTypeMismatch();
    const cipher = crypto.createCipheriv(`id-aes${kw * 8}-wrap`, bytes, AES_KW_IV);
    return Buffer.concat([cipher.update(plaintext), cipher.final()]);
  }
  const cbc = aesCbcSize(algorithm);
  if (cbc !== undefined) {
    if (secretBytes(key).length !== cbc) throw keyTypeMismatch();
    // AES-CBC needs an IV, and the streaming scheme passes none: daprd fails the same way.
    throw new Error('invalid nonce');
  }
  const hash = oaepHash(algorithm);
  if (hash !== undefined) {
    return crypto.publicEncrypt({ key: rsaKey(key, false), padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, plaintext);
  }
  throw new Error('unsupported algorithm');
}

function unwrap(wrapped: Buffer, algorithm: string, key: StoredKey): Buffer {
  const kw = aesKwSize(algorithm);
  if (kw !== undefined) {
    const bytes = secretBytes(key);
    if (bytes.length !== kw) throw keyTypeMismatch();
    try {
      const decipher = crypto.createDecipheriv(`id-aes${kw * 8}-wrap`, bytes, AES_KW_IV);
      return Buffer.concat([decipher.update(wrapped), decipher.final()]);
    } catch {
      throw new Error('aeskw: integrity check failed');
    }
  }
  const cbc = aesCbcSize(algorithm);
  if (cbc !== undefined) {
    if (secretBytes(key).length !== cbc) throw keyTypeMismatch();
    throw new Error('invalid nonce');
  }
  const hash = oaepHash(algorithm);
  if (hash !== undefined) {
    try {
      return crypto.privateDecrypt({ key: rsaKey(key, true), padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, wrapped);
    } catch (err) {
      if ((err as Error).message === 'key type mismatch') throw err;
      throw new Error('crypto/rsa: decryption error');
    }
  }
  throw new Error('unsupported algorithm');
}

/** Base class of providers that keep keys in the sidecar. */
export abstract class LocalCryptoProvider implements CryptoProvider {
  abstract init(props: MetadataProperties, context: ComponentContext): Promise<void>;

  /** Finds a key by name; rejects with {@link KeyNotFoundError} or a driver-specific reason. */
  protected abstract retrieveKey(keyName: string): Promise<StoredKey>;

  async getKey(keyName: string): Promise<crypto.KeyObject> {
    const stored = await this.retrieveKey(keyName);
    if (stored.key.type === 'secret') throw new KeyNotFoundError();
    return stored.key.type === 'private' ? crypto.createPublicKey(stored.key) : stored.key;
  }

  async wrapKey(plaintextKey: Buffer, algorithm: string, keyName: string): Promise<Buffer> {
    const kek = await this.keyFor(keyName, 'wrapKey', algorithm);
    try {
      return wrap(plaintextKey, algorithm, kek);
    } catch (err) {
      throw new Error(`failed to encrypt data: ${(err as Error).message}`);
    }
  }

  async unwrapKey(wrappedKey: Buffer, algorithm: string, keyName: string): Promise<Buffer> {
    const kek = await this.keyFor(keyName, 'unwrapKey', algorithm);
    try {
      return unwrap(wrappedKey, algorithm, kek);
    } catch (err) {
      throw new Error(`failed to decrypt data: ${(err as Error).message}`);
    }
  }

  async close(): Promise<void> {}

  private async keyFor(keyName: string, op: 'wrapKey' | 'unwrapKey', algorithm: string): Promise<StoredKey> {
    let kek: StoredKey;
    try {
      kek = await this.retrieveKey(keyName);
    } catch (err) {
      throw new Error(`failed to retrieve the key encryption key: ${(err as Error).message}`);
    }
    if (!keyCanPerformOperation(kek, op)) throw new Error(`key cannot perform the '${op}' operation`);
    if (!keyCanPerformAlgorithm(kek, algorithm)) throw new Error(`key cannot be used with algorithm '${algorithm}'`);
    return kek;
  }
}
