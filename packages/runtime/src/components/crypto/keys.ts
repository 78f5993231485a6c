/**
 * Key parsing as dapr/kit's `crypto.ParseKey` does it: a JWK (JSON), PEM (PKCS#1, PKCS#8, PKIX, SEC 1,
 * certificates) or raw symmetric bytes (base64, base64url or as is). Node's `crypto` reads JWK and PEM
 * natively, so no JOSE library is needed here.
 */
import crypto from 'node:crypto';

/** A key with the JWK attributes that restrict its use. */
export interface StoredKey {
  key: crypto.KeyObject;
  /** JWK `kid`. */
  kid?: string;
  /** JWK `use` (`enc`/`sig`). */
  use?: string;
  /** JWK `key_ops`. */
  keyOps?: readonly string[];
  /** JWK `alg`. */
  alg?: string;
}

/** Imports one JWK object. */
export function keyFromJwk(jwk: Record<string, unknown>): StoredKey {
  const kty = jwk['kty'];
  let key: crypto.KeyObject;
  if (kty === 'oct') {
    if (typeof jwk['k'] !== 'string') throw new Error('invalid JWK: "k" is required for kty "oct"');
    key = crypto.createSecretKey(Buffer.from(jwk['k'], 'base64url'));
  } else if (kty === 'RSA' || kty === 'EC' || kty === 'OKP') {
    const input = { key: jwk as crypto.JsonWebKey, format: 'jwk' as const };
    key = jwk['d'] !== undefined ? crypto.createPrivateKey(input) : crypto.createPublicKey(input);
  } else {
    throw new Error(`invalid key type ${JSON.stringify(kty)}`);
  }
  const attrs: Omit<StoredKey, 'key'> = {
    ...(typeof jwk['kid'] === 'string' ? { kid: jwk['kid'] } : {}),
    ...(typeof jwk['use'] === 'string' ? { use: jwk['use'] } : {}),
    ...(Array.isArray(jwk['key_ops']) ? { keyOps: jwk['key_ops'].filter((o): o is string => typeof o === 'string') } : {}),
    ...(typeof jwk['alg'] === 'string' ? { alg: jwk['alg'] } : {}),
  };
  return { key, ...attrs };
}

/** Imports a PEM-encoded key: private if it holds one, public otherwise. */
export function keyFromPem(pem: string): StoredKey {
  try {
    return { key: crypto.createPrivateKey(pem) };
  } catch {
    return { key: crypto.createPublicKey(pem) };
  }
}

const STD_RAW = /^[A-Za-z0-9+/]*$/;
const URL_RAW = /^[A-Za-z0-9_-]*$/;

/** Raw symmetric key bytes: unpadded base64, then base64url, then the bytes as they are. */
function symmetricKey(raw: Buffer): StoredKey {
  const trimmed = raw.toString('latin1').replace(/[\n=]+$/, '');
  const decodable = trimmed.length % 4 !== 1;
  if (decodable && STD_RAW.test(trimmed)) return { key: crypto.createSecretKey(Buffer.from(trimmed, 'base64')) };
  if (decodable && URL_RAW.test(trimmed)) return { key: crypto.createSecretKey(Buffer.from(trimmed, 'base64url')) };
  return { key: crypto.createSecretKey(raw) };
}

/**
 * Parses a key file or secret. `contentType` `application/json` forces JWK, `application/x-pem-file`
 * PEM; otherwise the content decides (JSON unless 16, 24 or 32 bytes long, PEM, else symmetric).
 */
export function parseKey(raw: Buffer, contentType?: string): StoredKey {
  if (raw.length === 0) throw new Error('key is empty');
  if (contentType === 'application/json') return keyFromJwk(JSON.parse(raw.toString('utf8')) as Record<string, unknown>);
  if (contentType === 'application/x-pem-file' || contentType === 'application/pkcs8') return keyFromPem(raw.toString('utf8'));
  const n = raw.length;
  if (raw[0] === 0x7b && n !== 16 && n !== 24 && n !== 32) return keyFromJwk(JSON.parse(raw.toString('utf8')) as Record<string, unknown>);
  if (n > 10 && raw.subarray(0, 5).toString('latin1') === '-----') return keyFromPem(raw.toString('utf8'));
  return symmetricKey(raw);
}
