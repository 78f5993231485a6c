/**
 * One conformance suite for every `crypto.*` driver: the same keys (as files for localstorage, as a
 * JWKS inline, base64, in a file or behind a URL for jwks) must wrap, unwrap, refuse and report alike,
 * and carry the streaming scheme end to end through the crypto block.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../../../test/support/weft-process.js';
import { readEncV1 } from '../../../../../test/support/enc-v1-reader.js';
import { silentLogger } from '../../logging/logger.js';
import { CryptoBlock } from '../../blocks/crypto/crypto-block.js';
import type { LoadedComponent } from '../manager.js';
import type { ComponentContext } from '../component.js';
import type { CryptoProvider } from './provider.js';
import { KeyNotFoundError } from './provider.js';
import { JwksCryptoProvider } from './jwks/jwks-provider.js';
import { LocalStorageCryptoProvider } from './localstorage/localstorage-provider.js';

const aes256 = crypto.randomBytes(32);
const aes128 = crypto.randomBytes(16);
const otherAes256 = crypto.randomBytes(32);
const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaJwk = rsa.privateKey.export({ format: 'jwk' });
const rsaPublicJwk = rsa.publicKey.export({ format: 'jwk' });
const oct = (k: Buffer) => ({ kty: 'oct', k: k.toString('base64url') });

/** The keys every driver holds, by name, as JWKs. */
const JWKS = {
  keys: [
    { kid: 'aes256', ...oct(aes256) },
    { kid: 'aes128', ...oct(aes128) },
    { kid: 'other-aes256', ...oct(otherAes256) },
    { kid: 'rsa', ...rsaJwk },
    { kid: 'rsa-public', ...rsaPublicJwk },
    { kid: 'sig-only', use: 'sig', ...oct(crypto.randomBytes(32)) },
    { kid: 'ops-unwrap-only', key_ops: ['unwrapKey'], ...oct(crypto.randomBytes(32)) },
    { kid: 'rsa-pinned', alg: 'RSA-OAEP', ...rsaJwk },
  ],
};

let dir: string;
let server: http.Server;
let jwksUrl: string;

function context(name: string): ComponentContext {
  return { name, appId: 'conformance', namespace: '', dataDir: dir, logger: silentLogger(), env: {} };
}

interface DriverCase {
  name: string;
  make(): Promise<CryptoProvider>;
}

const DRIVERS: DriverCase[] = [
  {
    name: 'crypto.dapr.localstorage (files: raw, PEM, JWK)',
    make: async () => {
      const p = new LocalStorageCryptoProvider();
      await p.init({ path: path.join(dir, 'keys') }, context('local'));
      return p;
    },
  },
  {
    name: 'crypto.dapr.jwks (inline JSON)',
    make: async () => {
      const p = new JwksCryptoProvider();
      await p.init({ jwks: JSON.stringify(JWKS) }, context('jwks-inline'));
      return p;
    },
  },
  {
    name: 'crypto.dapr.jwks (base64 JSON)',
    make: async () => {
      const p = new JwksCryptoProvider();
      await p.init({ jwks: Buffer.from(JSON.stringify(JWKS)).toString('base64') }, context('jwks-b64'));
      return p;
    },
  },
  {
    name: 'crypto.dapr.jwks (file)',
    make: async () => {
      const p = new JwksCryptoProvider();
      await p.init({ jwks: path.join(dir, 'jwks.json') }, context('jwks-file'));
      return p;
    },
  },
  {
    name: 'crypto.dapr.jwks (URL)',
    make: async () => {
      const p = new JwksCryptoProvider();
      await p.init({ jwks: jwksUrl, requestTimeout: '5s' }, context('jwks-url'));
      return p;
    },
  },
];

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-crypto-conf-'));
  const keys = path.join(dir, 'keys');
  await fs.mkdir(keys);
  // localstorage: the same keys as files in the formats Dapr's docs use.
  await fs.writeFile(path.join(keys, 'aes256'), aes256); // raw bytes, as `openssl rand 32`
  await fs.writeFile(path.join(keys, 'aes128'), aes128.toString('base64')); // base64 text
  await fs.writeFile(path.join(keys, 'other-aes256'), JSON.stringify(oct(otherAes256))); // JWK without extension
  await fs.writeFile(path.join(keys, 'rsa'), rsa.privateKey.export({ format: 'pem', type: 'pkcs1' }));
  await fs.writeFile(path.join(keys, 'rsa-public'), rsa.publicKey.export({ format: 'pem', type: 'spki' }));
  await fs.writeFile(path.join(keys, 'sig-only'), JSON.stringify(JWKS.keys[5]));
  await fs.writeFile(path.join(keys, 'ops-unwrap-only'), JSON.stringify(JWKS.keys[6]));
  await fs.writeFile(path.join(keys, 'rsa-pinned'), JSON.stringify(JWKS.keys[7]));
  await fs.writeFile(path.join(dir, 'jwks.json'), JSON.stringify(JWKS));
  const port = await freePort();
  server = http.createServer((req, res) => {
    if (req.url === '/jwks.json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(JWKS));
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  jwksUrl = `http://127.0.0.1:${port}/jwks.json`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  if (dir) await fs.rm(dir, { recursive: true, force: true });
});

async function* chunks(data: Buffer, size = 4096): AsyncIterable<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of stream) out.push(c);
  return Buffer.concat(out);
}

function blockOver(provider: CryptoProvider): CryptoBlock {
  const loaded = { name: 'vault', type: 'crypto.x', version: 'v1', kind: 'crypto', properties: {}, instance: provider, source: 'test' } as LoadedComponent;
  return new CryptoBlock({ ofKind: () => [loaded], get: (name) => (name === 'vault' ? loaded : undefined) });
}

describe.each(DRIVERS)('$name', (driver) => {
  let provider: CryptoProvider;

  beforeAll(async () => {
    provider = await driver.make();
  });

  afterAll(async () => {
    await provider?.close();
  });

  it('wraps and unwraps with A256KW (RFC 3394: 8 bytes longer)', async () => {
    const fk = crypto.randomBytes(32);
    const wrapped = await provider.wrapKey(fk, 'A256KW', 'aes256');
    expect(wrapped).toHaveLength(40);
    expect((await provider.unwrapKey(wrapped, 'A256KW', 'aes256')).equals(fk)).toBe(true);
  });

  it('wraps with the public part and unwraps with the private part under RSA-OAEP-256', async () => {
    const fk = crypto.randomBytes(32);
    const wrapped = await provider.wrapKey(fk, 'RSA-OAEP-256', 'rsa-public');
    expect(wrapped).toHaveLength(256);
    expect((await provider.unwrapKey(wrapped, 'RSA-OAEP-256', 'rsa')).equals(fk)).toBe(true);
    // Node's own RSA-OAEP-256 reads it too.
    const direct = crypto.privateDecrypt({ key: rsa.privateKey, padding: crypto.constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, wrapped);
    expect(direct.equals(fk)).toBe(true);
  });

  it('refuses to unwrap with a public key', async () => {
    const wrapped = await provider.wrapKey(crypto.randomBytes(32), 'RSA-OAEP-256', 'rsa');
    await expect(provider.unwrapKey(wrapped, 'RSA-OAEP-256', 'rsa-public')).rejects.toThrow('failed to decrypt data: key type mismatch');
  });

  it('refuses a key of the wrong size or type for the algorithm', async () => {
    await expect(provider.wrapKey(crypto.randomBytes(32), 'A256KW', 'aes128')).rejects.toThrow('failed to encrypt data: key type mismatch');
    await expect(provider.wrapKey(crypto.randomBytes(32), 'A256KW', 'rsa')).rejects.toThrow('failed to encrypt data: key type mismatch');
    await expect(provider.wrapKey(crypto.randomBytes(32), 'RSA-OAEP-256', 'aes256')).rejects.toThrow('failed to encrypt data: key type mismatch');
  });

  it('fails AES-CBC wrapping for want of an IV, as daprd does in the streaming scheme', async () => {
    await expect(provider.wrapKey(crypto.randomBytes(32), 'A256CBC-NOPAD', 'aes256')).rejects.toThrow('failed to encrypt data: invalid nonce');
  });

  it('refuses a key whose use or key_ops exclude wrapping, and one pinned to another algorithm', async () => {
    await expect(provider.wrapKey(crypto.randomBytes(32), 'A256KW', 'sig-only')).rejects.toThrow("key cannot perform the 'wrapKey' operation");
    await expect(provider.wrapKey(crypto.randomBytes(32), 'A256KW', 'ops-unwrap-only')).rejects.toThrow("key cannot perform the 'wrapKey' operation");
    await expect(provider.wrapKey(crypto.randomBytes(32), 'RSA-OAEP-256', 'rsa-pinned')).rejects.toThrow("key cannot be used with algorithm 'RSA-OAEP-256'");
  });

  it('names a missing key as the reason', async () => {
    await expect(provider.wrapKey(crypto.randomBytes(32), 'A256KW', 'nope')).rejects.toThrow(/^failed to retrieve the key encryption key: /);
  });

  it('hands out the public part of an asymmetric key and nothing of a symmetric one', async () => {
    const pub = await provider.getKey('rsa');
    expect(pub.type).toBe('public');
    expect(pub.export({ format: 'jwk' }).n).toBe(rsaJwk.n);
    await expect(provider.getKey('aes256')).rejects.toBeInstanceOf(KeyNotFoundError);
  });

  describe('through the crypto block (dapr.io/enc/v1)', () => {
    const plaintext = crypto.randomBytes(200 * 1024 + 3);

    it.each([
      ['A256KW', 'aes256', { kind: 'aes-kw', key: aes256 }],
      ['AES', 'aes256', { kind: 'aes-kw', key: aes256 }],
      ['rsa-oaep-256', 'rsa', { kind: 'rsa-oaep-256', privateKeyPkcs8: rsa.privateKey.export({ format: 'der', type: 'pkcs8' }) }],
    ] as const)('encrypts with %s so that an independent reader and the block both decrypt it', async (algorithm, keyName, readerKey) => {
      const block = blockOver(provider);
      const doc = await collect(await block.encrypt({ componentName: 'vault', keyName, keyWrapAlgorithm: algorithm }, chunks(plaintext)));
      const read = await readEncV1(doc, readerKey);
      expect(read.plaintext.equals(plaintext)).toBe(true);
      expect(read.manifest.k).toBe(keyName);
      expect(read.segments).toBe(4);
      const back = await collect(await block.decrypt({ componentName: 'vault' }, chunks(doc, 999)));
      expect(back.equals(plaintext)).toBe(true);
    });

    it('answers ERR_CRYPTO with a signature failure when another key is named for decryption', async () => {
      const block = blockOver(provider);
      const doc = await collect(await block.encrypt({ componentName: 'vault', keyName: 'aes256', keyWrapAlgorithm: 'A256KW' }, chunks(plaintext)));
      const err = await block.decrypt({ componentName: 'vault', keyName: 'other-aes256' }, chunks(doc)).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ERR_CRYPTO', httpStatus: 500, message: "failed to perform operation: failed to validate the document's signature" });
    });

    it('answers ERR_CRYPTO naming the wrap failure for an unknown key', async () => {
      const block = blockOver(provider);
      const err = await block.encrypt({ componentName: 'vault', keyName: 'nope', keyWrapAlgorithm: 'A256KW' }, chunks(plaintext)).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'ERR_CRYPTO', grpcCode: 13 });
      expect((err as Error).message).toMatch(/^failed to perform operation: failed to wrap the file key: failed to retrieve the key encryption key: /);
    });
  });
});

describe('driver-specific behaviour', () => {
  it('localstorage refuses key names that climb out of its folder', async () => {
    const p = new LocalStorageCryptoProvider();
    await p.init({ path: path.join(dir, 'keys') }, context('local'));
    await expect(p.wrapKey(crypto.randomBytes(32), 'A256KW', '../jwks.json')).rejects.toThrow("invalid key path: cannot contain '..'");
  });

  it('localstorage reads a .pem and a .json key by their extension', async () => {
    const keys = path.join(dir, 'ext');
    await fs.mkdir(keys, { recursive: true });
    await fs.writeFile(path.join(keys, 'k.pem'), rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }));
    await fs.writeFile(path.join(keys, 'k.json'), JSON.stringify(oct(aes256)));
    const p = new LocalStorageCryptoProvider();
    await p.init({ path: keys }, context('ext'));
    const fk = crypto.randomBytes(32);
    expect((await p.unwrapKey(await p.wrapKey(fk, 'RSA-OAEP-256', 'k.pem'), 'RSA-OAEP-256', 'k.pem')).equals(fk)).toBe(true);
    expect((await p.unwrapKey(await p.wrapKey(fk, 'A256KW', 'k.json'), 'A256KW', 'k.json')).equals(fk)).toBe(true);
  });

  it('localstorage fails init when path is missing or not a folder', async () => {
    await expect(new LocalStorageCryptoProvider().init({}, context('x'))).rejects.toThrow('metadata field "path": is required');
    await expect(new LocalStorageCryptoProvider().init({ path: path.join(dir, 'jwks.json') }, context('x'))).rejects.toThrow('is not a directory');
    await expect(new LocalStorageCryptoProvider().init({ path: path.join(dir, 'absent') }, context('x'))).rejects.toThrow('could not stat path');
  });

  it('jwks fails init on a missing property, an unparsable value and an unreachable URL', async () => {
    await expect(new JwksCryptoProvider().init({}, context('x'))).rejects.toThrow('metadata field "jwks": is required');
    await expect(new JwksCryptoProvider().init({ jwks: 'not json' }, context('x'))).rejects.toThrow('not a URL, path to local file, or JSON value');
    const port = await freePort();
    await expect(new JwksCryptoProvider().init({ jwks: `http://127.0.0.1:${port}/jwks.json`, requestTimeout: '2s' }, context('x'))).rejects.toThrow();
    await expect(new JwksCryptoProvider().init({ jwks: jwksUrl.replace('jwks.json', 'missing') }, context('x'))).rejects.toThrow('HTTP 404');
  });
});
