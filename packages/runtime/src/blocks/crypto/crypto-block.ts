/**
 * The cryptography building block, transport-neutral: resolves the provider, runs the
 * `dapr.io/enc/v1` scheme over a byte stream and wraps or unwraps the file key through the provider.
 * Set-up failures (bad options, unknown key, wrong key for decryption) reject with an ApiError before
 * any output; failures inside the stream (a tampered segment, a broken input stream) surface as a
 * {@link CryptoStreamError} from the output iterable, which each transport renders as daprd does.
 */
import type { LoadedComponent } from '../../components/manager.js';
import type { ComponentKind } from '../../components/registry.js';
import type { CryptoProvider } from '../../components/crypto/provider.js';
import { isCryptoProvider } from '../../components/crypto/provider.js';
import { cryptoErrors } from './errors.js';
import { decrypt, encrypt } from './scheme.js';

/** The component lookups the block needs (a subset of the component manager). */
export interface CryptoComponents {
  ofKind(kind: ComponentKind): readonly LoadedComponent[];
  get(name: string): LoadedComponent | undefined;
}

/** Options of an encryption, as `EncryptRequestOptions` / the `dapr-*` headers carry them. */
export interface EncryptRequest {
  componentName: string;
  keyName: string;
  keyWrapAlgorithm: string;
  dataEncryptionCipher?: string;
  omitDecryptionKeyName?: boolean;
  decryptionKeyName?: string;
}

/** Options of a decryption. */
export interface DecryptRequest {
  componentName: string;
  /** Overrides the key name in the document's manifest. */
  keyName?: string;
}

/** A failure after the output started (or while reading the input): its message is daprd's. */
export class CryptoStreamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CryptoStreamError';
  }
}

async function* guarded(output: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  try {
    yield* output;
  } catch (err) {
    throw new CryptoStreamError(err instanceof Error ? err.message : String(err));
  }
}

/** Encrypt and decrypt over the loaded `crypto.*` components. */
export class CryptoBlock {
  constructor(private readonly components: CryptoComponents) {}

  /** The named provider, or daprd's error for no providers, no name, or an unknown name. */
  provider(componentName: string): CryptoProvider {
    if (this.components.ofKind('crypto').length === 0) throw cryptoErrors.providersNotConfigured();
    if (componentName === '') throw cryptoErrors.badRequest('missing component name');
    const loaded = this.components.get(componentName);
    if (loaded?.kind !== 'crypto' || !isCryptoProvider(loaded.instance)) throw cryptoErrors.providerNotFound(componentName);
    return loaded.instance;
  }

  /** Encrypts `input`; the result yields the header, then the sealed segments. */
  async encrypt(request: EncryptRequest, input: AsyncIterable<Buffer>): Promise<AsyncIterable<Buffer>> {
    const provider = this.provider(request.componentName);
    try {
      const output = await encrypt(input, {
        keyName: request.keyName,
        // daprd upper-cases algorithm and cipher names before resolving them.
        algorithm: request.keyWrapAlgorithm.toUpperCase(),
        wrapKey: (fileKey, algorithm, keyName) => provider.wrapKey(fileKey, algorithm, keyName),
        ...(request.omitDecryptionKeyName ? { omitKeyName: true } : {}),
        ...(request.decryptionKeyName ? { decryptionKeyName: request.decryptionKeyName } : {}),
        ...(request.dataEncryptionCipher ? { cipher: request.dataEncryptionCipher.toUpperCase() } : {}),
      });
      return guarded(output);
    } catch (err) {
      throw cryptoErrors.operation((err as Error).message);
    }
  }

  /** Decrypts `input`; the result yields plaintext segment by segment, each verified. */
  async decrypt(request: DecryptRequest, input: AsyncIterable<Buffer>): Promise<AsyncIterable<Buffer>> {
    const provider = this.provider(request.componentName);
    try {
      const output = await decrypt(input, {
        unwrapKey: (wrapped, algorithm, keyName) => provider.unwrapKey(wrapped, algorithm, keyName),
        ...(request.keyName ? { keyName: request.keyName } : {}),
      });
      return guarded(output);
    } catch (err) {
      throw cryptoErrors.operation((err as Error).message);
    }
  }
}
