/**
 * Dapr's streaming encryption scheme `dapr.io/enc/v1` (dapr/kit `schemes/enc/v1`), byte for byte, so
 * a document encrypted by Weft decrypts on daprd and the other way round.
 *
 * Layout: `dapr.io/enc/v1\n<manifest JSON>\n<base64 HMAC>\n` then the payload in segments of 64 KiB of
 * plaintext, each sealed with AES-256-GCM or ChaCha20-Poly1305 (16-byte tag). A random 32-byte file
 * key is wrapped by the component's key (the manifest's `wfk`); the header MAC key is
 * HKDF-SHA-256(file key, salt = "", info = "header"), the payload key HKDF-SHA-256(file key, salt =
 * nonce prefix, info = "payload"); a segment's nonce is `prefix(7) || seq (uint32 BE) || last (1)`.
 *
 * Every primitive is Node's `crypto`; this module only arranges bytes. Error texts are dapr/kit's, as
 * daprd returns them to callers inside `ERR_CRYPTO`.
 */
import crypto from 'node:crypto';

/** The scheme's name, the header's first line. */
export const SCHEME_NAME = 'dapr.io/enc/v1';
/** Plaintext bytes per segment. */
export const SEGMENT_SIZE = 64 * 1024;
/** Tag bytes added to each segment. */
export const SEGMENT_OVERHEAD = 16;
/** Bytes of the random nonce prefix. */
export const NONCE_PREFIX_LENGTH = 7;

/** Key wrapping algorithms the scheme names (manifest `kw` ids 1 to 5). */
export type KeyWrapAlgorithm = 'A256KW' | 'A128CBC-NOPAD' | 'A192CBC-NOPAD' | 'A256CBC-NOPAD' | 'RSA-OAEP-256';
/** Payload ciphers (manifest `cph` ids 1 and 2). */
export type DataCipher = 'AES-GCM' | 'CHACHA20-POLY1305';

const ALGORITHM_IDS: readonly KeyWrapAlgorithm[] = ['A256KW', 'A128CBC-NOPAD', 'A192CBC-NOPAD', 'A256CBC-NOPAD', 'RSA-OAEP-256'];
const CIPHER_IDS: readonly DataCipher[] = ['AES-GCM', 'CHACHA20-POLY1305'];

/** A failure the caller sees as `ERR_CRYPTO` with this message. */
export class SchemeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SchemeError';
  }
}

/**
 * Resolves a key wrap algorithm name and its aliases (`AES` → `A256KW`, `RSA` → `RSA-OAEP-256`).
 * Names are case-sensitive here; daprd upper-cases what callers send before asking.
 */
export function resolveKeyWrapAlgorithm(name: string): KeyWrapAlgorithm {
  if (name === 'AES') return 'A256KW';
  if (name === 'RSA') return 'RSA-OAEP-256';
  if ((ALGORITHM_IDS as readonly string[]).includes(name)) return name as KeyWrapAlgorithm;
  throw new SchemeError(`algorithm ${name} is not supported`);
}

/** Resolves a payload cipher name. */
export function resolveCipher(name: string): DataCipher {
  if ((CIPHER_IDS as readonly string[]).includes(name)) return name as DataCipher;
  throw new SchemeError(`cipher ${name} is not supported`);
}

/** Wraps the 32-byte file key with the named key; rejects with the component's reason. */
export type WrapKeyFn = (fileKey: Buffer, algorithm: KeyWrapAlgorithm, keyName: string) => Promise<Buffer>;
/** Unwraps a wrapped file key with the named key. */
export type UnwrapKeyFn = (wrappedKey: Buffer, algorithm: KeyWrapAlgorithm, keyName: string) => Promise<Buffer>;

/** Options of {@link encrypt}. */
export interface EncryptOptions {
  wrapKey: WrapKeyFn;
  /** Key wrap algorithm name or alias. */
  algorithm: string;
  /** Key that wraps the file key. */
  keyName: string;
  /** Key name written into the manifest for decryption. @default keyName */
  decryptionKeyName?: string;
  /** Leave the key name out of the manifest (the decrypting caller must then name the key). */
  omitKeyName?: boolean;
  /** Payload cipher name. @default 'AES-GCM' */
  cipher?: string;
}

/** Options of {@link decrypt}. */
export interface DecryptOptions {
  unwrapKey: UnwrapKeyFn;
  /** Overrides the manifest's key name. */
  keyName?: string;
}

/** The manifest, as dapr/kit's `Manifest` struct. */
export interface Manifest {
  k?: string;
  kw: number;
  wfk: string;
  cph: number;
  np: string;
}

class FileKey {
  readonly headerKey: Buffer;
  readonly payloadKey: Buffer;

  constructor(
    readonly fileKey: Buffer,
    readonly noncePrefix: Buffer,
    readonly cipher: DataCipher,
  ) {
    this.headerKey = Buffer.from(crypto.hkdfSync('sha256', fileKey, Buffer.alloc(0), 'header', 32));
    this.payloadKey = Buffer.from(crypto.hkdfSync('sha256', fileKey, noncePrefix, 'payload', 32));
  }

  mac(manifest: Buffer): Buffer {
    return crypto.createHmac('sha256', this.headerKey).update(headerMessage(manifest)).digest();
  }

  nonce(seq: number, last: boolean): Buffer {
    const nonce = Buffer.alloc(12);
    this.noncePrefix.copy(nonce, 0);
    nonce.writeUInt32BE(seq, NONCE_PREFIX_LENGTH);
    nonce[11] = last ? 1 : 0;
    return nonce;
  }

  private algorithm(): crypto.CipherGCMTypes | crypto.CipherChaCha20Poly1305Types {
    return this.cipher === 'AES-GCM' ? 'aes-256-gcm' : 'chacha20-poly1305';
  }

  seal(plaintext: Buffer, seq: number, last: boolean): Buffer {
    const cipher = crypto.createCipheriv(this.algorithm() as 'aes-256-gcm', this.payloadKey, this.nonce(seq, last), { authTagLength: 16 });
    return Buffer.concat([cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
  }

  open(sealed: Buffer, seq: number, last: boolean): Buffer {
    if (sealed.length < SEGMENT_OVERHEAD) throw new SchemeError('failed to decrypt segment');
    const decipher = crypto.createDecipheriv(this.algorithm() as 'aes-256-gcm', this.payloadKey, this.nonce(seq, last), { authTagLength: 16 });
    decipher.setAuthTag(sealed.subarray(sealed.length - SEGMENT_OVERHEAD));
    try {
      return Buffer.concat([decipher.update(sealed.subarray(0, sealed.length - SEGMENT_OVERHEAD)), decipher.final()]);
    } catch {
      throw new SchemeError('failed to decrypt segment');
    }
  }
}

function headerMessage(manifest: Buffer): Buffer {
  return Buffer.concat([Buffer.from(`${SCHEME_NAME}\n`), manifest, Buffer.from('\n')]);
}

/** JSON text of a string as Go's encoding/json writes it (`<`, `>`, `&`, U+2028/9 escaped). */
function goJsonString(value: string): string {
  return JSON.stringify(value).replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** The compact manifest JSON with dapr/kit's field order. */
export function encodeManifest(m: Manifest): Buffer {
  const parts = [
    ...(m.k ? [`"k":${goJsonString(m.k)}`] : []),
    `"kw":${m.kw}`,
    `"wfk":"${m.wfk}"`,
    `"cph":${m.cph}`,
    `"np":"${m.np}"`,
  ];
  return Buffer.from(`{${parts.join(',')}}`);
}

/**
 * Encrypts a stream. Validation and key wrapping happen before the returned iterable yields, so their
 * failures reject this promise (daprd answers them before streaming); the iterable yields the header
 * first, then one chunk per sealed segment.
 */
export async function encrypt(input: AsyncIterable<Buffer>, options: EncryptOptions): Promise<AsyncIterable<Buffer>> {
  if (!options.keyName) throw new SchemeError('option KeyName is required');
  if (!options.algorithm) throw new SchemeError('option Algorithm is required');
  let algorithm: KeyWrapAlgorithm;
  try {
    algorithm = resolveKeyWrapAlgorithm(options.algorithm);
  } catch (err) {
    throw new SchemeError(`option Algorithm is not valid: ${(err as Error).message}`);
  }
  let cipher: DataCipher = 'AES-GCM';
  if (options.cipher !== undefined && options.cipher !== '') {
    try {
      cipher = resolveCipher(options.cipher);
    } catch (err) {
      throw new SchemeError(`option Cipher is not valid: ${(err as Error).message}`);
    }
  }
  const random = crypto.randomBytes(32 + NONCE_PREFIX_LENGTH);
  const fk = new FileKey(random.subarray(0, 32), random.subarray(32), cipher);
  let wrapped: Buffer;
  try {
    wrapped = await options.wrapKey(fk.fileKey, algorithm, options.keyName);
  } catch (err) {
    throw new SchemeError(`failed to wrap the file key: ${(err as Error).message}`);
  }
  const keyName = options.omitKeyName ? '' : options.decryptionKeyName || options.keyName;
  const manifest = encodeManifest({
    ...(keyName ? { k: keyName } : {}),
    kw: ALGORITHM_IDS.indexOf(algorithm) + 1,
    wfk: wrapped.toString('base64'),
    cph: CIPHER_IDS.indexOf(cipher) + 1,
    np: fk.noncePrefix.toString('base64'),
  });
  const header = Buffer.concat([headerMessage(manifest), Buffer.from(`${fk.mac(manifest).toString('base64')}\n`)]);
  if (header.length > SEGMENT_SIZE) throw new SchemeError('failed to sign header: header is too long');
  return (async function* () {
    yield header;
    yield* segments(input, SEGMENT_SIZE, (data, seq, last) => fk.seal(data, seq, last));
  })();
}

/**
 * Decrypts a stream. The header is read, the file key unwrapped and the header MAC checked before the
 * returned promise resolves; a failed unwrap is not reported as such but as a MAC failure (dapr/kit
 * does so on purpose, so a caller cannot probe which keys exist). Segments are authenticated one by
 * one before they are yielded, so no unverified plaintext leaves.
 */
export async function decrypt(input: AsyncIterable<Buffer>, options: DecryptOptions): Promise<AsyncIterable<Buffer>> {
  const iterator = input[Symbol.asyncIterator]();
  let header: { manifest: Buffer; mac: Buffer; rest: Buffer };
  try {
    header = await readHeader(iterator);
  } catch (err) {
    throw new SchemeError(`invalid header: ${(err as Error).message}`);
  }
  const manifest = parseManifest(header.manifest);
  const keyName = options.keyName || manifest.keyName;
  if (!keyName) throw new SchemeError("document's manifest does not contain a key name, and no key name was provided");
  let fileKey: Buffer;
  try {
    fileKey = await options.unwrapKey(manifest.wrappedKey, manifest.algorithm, keyName);
  } catch {
    fileKey = Buffer.alloc(0);
  }
  if (fileKey.length !== 32) fileKey = Buffer.alloc(32);
  const fk = new FileKey(fileKey, manifest.noncePrefix, manifest.cipher);
  const given = decodeStdBase64(header.mac.toString('latin1'));
  if (given === undefined) throw new SchemeError("failed to decode header's signature: illegal base64 data");
  const expected = fk.mac(header.manifest);
  if (given.length !== expected.length || !crypto.timingSafeEqual(given, expected)) {
    throw new SchemeError("failed to validate the document's signature");
  }
  const rest = header.rest;
  const remaining: AsyncIterable<Buffer> = {
    [Symbol.asyncIterator]: () => iterator,
  };
  return (async function* () {
    yield* segments(prepend(rest, remaining), SEGMENT_SIZE + SEGMENT_OVERHEAD, (data, seq, last) => fk.open(data, seq, last));
  })();
}

async function* prepend(first: Buffer, rest: AsyncIterable<Buffer>): AsyncIterable<Buffer> {
  if (first.length > 0) yield first;
  yield* rest;
}

/**
 * Cuts a stream into segments of `size` bytes and processes each. A segment is known to be the last
 * only when the stream ends, so a full segment waits for one more byte (or the end) before it goes.
 */
async function* segments(input: AsyncIterable<Buffer>, size: number, process: (data: Buffer, seq: number, last: boolean) => Buffer): AsyncIterable<Buffer> {
  let pending: Buffer[] = [];
  let pendingBytes = 0;
  let seq = 0;
  const take = (n: number): Buffer => {
    const all = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
    const head = all.subarray(0, n);
    const tail = all.subarray(n);
    pending = tail.length > 0 ? [tail] : [];
    pendingBytes = tail.length;
    return head;
  };
  for await (const chunk of input) {
    if (chunk.length === 0) continue;
    pending.push(chunk);
    pendingBytes += chunk.length;
    while (pendingBytes > size) {
      if (seq === 0xffffffff) throw new SchemeError('input stream is too large');
      yield process(take(size), seq, false);
      seq++;
    }
  }
  if (pendingBytes > 0) yield process(take(pendingBytes), seq, true);
}

/** Reads the three header lines (at most one segment's worth of bytes), as dapr/kit's `readHeader`. */
async function readHeader(iterator: AsyncIterator<Buffer>): Promise<{ manifest: Buffer; mac: Buffer; rest: Buffer }> {
  let buffered = Buffer.alloc(0);
  const lines: Buffer[] = [];
  let lineStart = 0;
  let scanned = 0;
  for (;;) {
    while (lines.length < 3) {
      const nl = buffered.indexOf(0x0a, scanned);
      if (nl < 0 || nl >= SEGMENT_SIZE) break;
      if (nl <= lineStart) throw new Error('invalid format');
      const line = buffered.subarray(lineStart, nl);
      if (lines.length === 0 && line.toString('latin1') !== SCHEME_NAME) throw new Error('unsupported scheme');
      lines.push(line);
      lineStart = nl + 1;
      scanned = nl + 1;
    }
    if (lines.length === 3) return { manifest: lines[1]!, mac: lines[2]!, rest: buffered.subarray(lineStart) };
    scanned = buffered.length;
    if (buffered.length >= SEGMENT_SIZE) break;
    const next = await iterator.next();
    if (next.done) break;
    buffered = Buffer.concat([buffered, next.value]);
  }
  if (lines.length < 1) throw new Error('scheme name not found');
  if (lines.length < 2) throw new Error('manifest not found');
  throw new Error('message authentication code not found');
}

/** Strict standard base64 with padding, as Go's `base64.StdEncoding`; undefined when malformed. */
function decodeStdBase64(text: string): Buffer | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}

interface ParsedManifest {
  keyName: string;
  algorithm: KeyWrapAlgorithm;
  wrappedKey: Buffer;
  cipher: DataCipher;
  noncePrefix: Buffer;
}

/** Parses and validates the manifest; any problem is the one opaque error dapr/kit returns. */
function parseManifest(raw: Buffer): ParsedManifest {
  const invalid = () => new SchemeError('invalid header: invalid manifest');
  let json: unknown;
  try {
    json = JSON.parse(raw.toString('utf8'));
  } catch {
    throw invalid();
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw invalid();
  const m = json as Record<string, unknown>;
  const id = (v: unknown, max: number) => (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= max ? v : undefined);
  const kw = id(m['kw'], ALGORITHM_IDS.length);
  const cph = id(m['cph'], CIPHER_IDS.length);
  const wfk = typeof m['wfk'] === 'string' ? decodeStdBase64(m['wfk']) : undefined;
  const np = typeof m['np'] === 'string' ? decodeStdBase64(m['np']) : undefined;
  const k = m['k'] === undefined || m['k'] === null ? '' : m['k'];
  if (kw === undefined || cph === undefined || !wfk || wfk.length === 0 || !np || np.length !== NONCE_PREFIX_LENGTH || typeof k !== 'string') {
    throw invalid();
  }
  return { keyName: k, algorithm: ALGORITHM_IDS[kw - 1]!, wrappedKey: wfk, cipher: CIPHER_IDS[cph - 1]!, noncePrefix: np };
}
