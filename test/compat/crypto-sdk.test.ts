/**
 * The cryptography API against a real `weft sidecar` process: `@dapr/dapr`'s gRPC client
 * (`client.crypto.encrypt/decrypt`, bidirectional streams of 2 KiB chunks) and the HTTP API
 * (`PUT /v1.0-alpha1/crypto/{name}/encrypt|decrypt`), with `crypto.dapr.localstorage` and
 * `crypto.dapr.jwks` components. Output is checked by an independent reader of the format.
 */
import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { CommunicationProtocolEnum } from '@dapr/dapr';
import type { DaprClient } from '@dapr/dapr';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readEncV1 } from '../support/enc-v1-reader.js';
import { freePort, startWeftSidecar } from '../support/weft-process.js';
import type { WeftProcess } from '../support/weft-process.js';
import { removeDir, sdkClient, tempDir } from './support/compat-env.js';
import { sdkGrpcError, thrownBy } from './support/sdk-errors.js';

const GRPC_INVALID_ARGUMENT = 3;
const GRPC_INTERNAL = 13;

const aes256 = crypto.randomBytes(32);
const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 4096 });
const jwks = { keys: [{ kid: 'jwks-aes', kty: 'oct', k: crypto.randomBytes(32).toString('base64url') }, { kid: 'jwks-rsa', ...rsa.privateKey.export({ format: 'jwk' }) }] };

let dir: string;
let weft: WeftProcess;
let client: DaprClient;
let base: string;
let metricsPort: number;

beforeAll(async () => {
  dir = await tempDir('crypto');
  const keys = path.join(dir, 'keys');
  const resources = path.join(dir, 'resources');
  await fs.mkdir(keys);
  await fs.mkdir(resources);
  await fs.writeFile(path.join(keys, 'symmetric256'), aes256);
  await fs.writeFile(path.join(keys, 'rsa-private-key.pem'), rsa.privateKey.export({ format: 'pem', type: 'pkcs8' }));
  await fs.writeFile(path.join(keys, 'rsa-public-key.pem'), rsa.publicKey.export({ format: 'pem', type: 'spki' }));
  await fs.writeFile(
    path.join(resources, 'crypto.yaml'),
    [
      `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: localvault\nspec:\n  type: crypto.dapr.localstorage\n  version: v1\n  metadata:\n  - name: path\n    value: ${keys}\n`,
      `apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata:\n  name: jwksvault\nspec:\n  type: crypto.dapr.jwks\n  version: v1\n  metadata:\n  - name: jwks\n    value: '${JSON.stringify(jwks)}'\n`,
    ].join('---\n'),
  );
  metricsPort = await freePort();
  weft = await startWeftSidecar(['--app-id', 'compat-crypto', '--resources-path', resources, '--metrics-port', String(metricsPort)], { cwd: dir });
  base = `http://127.0.0.1:${weft.httpPort}/v1.0-alpha1/crypto`;
  client = sdkClient(weft, CommunicationProtocolEnum.GRPC);
  await client.start();
});

afterAll(async () => {
  await client?.stop();
  await weft?.stop();
  if (dir) await removeDir(dir);
});

it('lists the crypto components in the metadata API with no capabilities, as daprd', async () => {
  const components = (await client.metadata.get()).components;
  expect(components).toEqual(
    expect.arrayContaining([
      expect.objectContaining({ name: 'localvault', type: 'crypto.dapr.localstorage', version: 'v1', capabilities: [] }),
      expect.objectContaining({ name: 'jwksvault', type: 'crypto.dapr.jwks', version: 'v1', capabilities: [] }),
    ]),
  );
});

describe('DaprClient crypto over gRPC', () => {
  it('round-trips a short message with a symmetric key (A256KW) and writes Dapr\'s header', async () => {
    const enc = await client.crypto.encrypt('hello from weft', { componentName: 'localvault', keyName: 'symmetric256', keyWrapAlgorithm: 'A256KW' });
    expect(enc.subarray(0, 15).toString()).toBe('dapr.io/enc/v1\n');
    const read = await readEncV1(enc, { kind: 'aes-kw', key: aes256 });
    expect(read.plaintext.toString()).toBe('hello from weft');
    expect(read.manifest).toMatchObject({ k: 'symmetric256', kw: 1, cph: 1 });
    const dec = await client.crypto.decrypt(enc, { componentName: 'localvault' });
    expect(dec.toString()).toBe('hello from weft');
  });

  it('round-trips several MB (many segments and chunks) with RSA, decrypting with the private key named in the manifest', async () => {
    const plaintext = crypto.randomBytes(3 * 1024 * 1024 + 12345);
    const enc = await client.crypto.encrypt(plaintext, {
      componentName: 'localvault',
      keyName: 'rsa-public-key.pem',
      keyWrapAlgorithm: 'RSA',
      decryptionKeyName: 'rsa-private-key.pem',
    });
    const segments = Math.ceil(plaintext.length / 65536);
    const read = await readEncV1(enc, { kind: 'rsa-oaep-256', privateKeyPkcs8: rsa.privateKey.export({ format: 'der', type: 'pkcs8' }) });
    expect(read.segments).toBe(segments);
    expect(read.manifest).toMatchObject({ k: 'rsa-private-key.pem', kw: 5 });
    expect(read.plaintext.equals(plaintext)).toBe(true);
    const dec = await client.crypto.decrypt(enc, { componentName: 'localvault' });
    expect(dec.equals(plaintext)).toBe(true);
  });

  it('gives the exact size Dapr\'s SDK e2e test expects for a 1 273 119-byte file under a 12-character symmetric key name', async () => {
    await fs.copyFile(path.join(dir, 'keys', 'symmetric256'), path.join(dir, 'keys', 'symmetric-12'));
    const enc = await client.crypto.encrypt(crypto.randomBytes(1_273_119), { componentName: 'localvault', keyName: 'symmetric-12', keyWrapAlgorithm: 'AES' });
    expect(enc.length).toBe(1_273_620);
  });

  it('uses ChaCha20-Poly1305 when asked and a jwks component', async () => {
    const plaintext = crypto.randomBytes(100_000);
    const enc = await client.crypto.encrypt(plaintext, {
      componentName: 'jwksvault',
      keyName: 'jwks-rsa',
      keyWrapAlgorithm: 'RSA-OAEP-256',
      dataEncryptionCipher: 'chacha20-poly1305',
    });
    const read = await readEncV1(enc, { kind: 'rsa-oaep-256', privateKeyPkcs8: rsa.privateKey.export({ format: 'der', type: 'pkcs8' }) });
    expect(read.manifest.cph).toBe(2);
    expect(read.plaintext.equals(plaintext)).toBe(true);
    expect((await client.crypto.decrypt(enc, { componentName: 'jwksvault' })).equals(plaintext)).toBe(true);
  });

  it('requires the key name on decryption when the manifest omits it', async () => {
    const enc = await client.crypto.encrypt('quiet', { componentName: 'jwksvault', keyName: 'jwks-aes', keyWrapAlgorithm: 'AES', omitDecryptionKeyName: true });
    const err = sdkGrpcError(await thrownBy(() => client.crypto.decrypt(enc, { componentName: 'jwksvault' })));
    expect(err.code).toBe(GRPC_INTERNAL);
    expect(err.rawMessage).toBe("failed to perform operation: document's manifest does not contain a key name, and no key name was provided");
    expect((await client.crypto.decrypt(enc, { componentName: 'jwksvault', keyName: 'jwks-aes' })).toString()).toBe('quiet');
  });

  it('fails decryption with the wrong key as Dapr does: INTERNAL, signature not valid', async () => {
    const enc = await client.crypto.encrypt('secret', { componentName: 'localvault', keyName: 'symmetric256', keyWrapAlgorithm: 'A256KW' });
    const err = sdkGrpcError(await thrownBy(() => client.crypto.decrypt(enc, { componentName: 'jwksvault', keyName: 'jwks-aes' })));
    expect(err.code).toBe(GRPC_INTERNAL);
    expect(err.rawMessage).toBe("failed to perform operation: failed to validate the document's signature");
  });

  it('fails on a tampered segment with ERR_CRYPTO', async () => {
    const enc = await client.crypto.encrypt(crypto.randomBytes(200_000), { componentName: 'localvault', keyName: 'symmetric256', keyWrapAlgorithm: 'A256KW' });
    enc[enc.length - 5]! ^= 0xff;
    const err = sdkGrpcError(await thrownBy(() => client.crypto.decrypt(enc, { componentName: 'localvault' })));
    expect(err.code).toBe(GRPC_INTERNAL);
    expect(err.rawMessage).toBe('failed to perform operation: failed to decrypt segment');
  });

  it('answers an unknown component with INVALID_ARGUMENT and an unknown key with INTERNAL', async () => {
    const unknown = sdkGrpcError(await thrownBy(() => client.crypto.encrypt('x', { componentName: 'nope', keyName: 'k', keyWrapAlgorithm: 'AES' })));
    expect(unknown.code).toBe(GRPC_INVALID_ARGUMENT);
    expect(unknown.rawMessage).toBe('crypto provider nope not found');
    const missing = sdkGrpcError(await thrownBy(() => client.crypto.encrypt('x', { componentName: 'jwksvault', keyName: 'absent', keyWrapAlgorithm: 'AES' })));
    expect(missing.code).toBe(GRPC_INTERNAL);
    expect(missing.rawMessage).toBe('failed to perform operation: failed to wrap the file key: failed to retrieve the key encryption key: key not found');
  });
});

describe('HTTP crypto API', () => {
  const put = (url: string, body: Buffer | string, headers: Record<string, string> = {}) => fetch(url, { method: 'PUT', body, headers });

  it('encrypts over HTTP what the gRPC client decrypts, and decrypts over HTTP what it encrypts', async () => {
    const plaintext = crypto.randomBytes(150_000);
    const res = await put(`${base}/localvault/encrypt`, plaintext, { 'dapr-key-name': 'symmetric256', 'dapr-key-wrap-algorithm': 'aes' });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/octet-stream');
    const enc = Buffer.from(await res.arrayBuffer());
    expect((await client.crypto.decrypt(enc, { componentName: 'localvault' })).equals(plaintext)).toBe(true);

    const enc2 = await client.crypto.encrypt(plaintext, { componentName: 'localvault', keyName: 'symmetric256', keyWrapAlgorithm: 'A256KW' });
    const dec = await put(`${base}/localvault/decrypt`, enc2);
    expect(dec.status).toBe(200);
    expect(Buffer.from(await dec.arrayBuffer()).equals(plaintext)).toBe(true);
  });

  it('honours dapr-omit-decryption-key-name, dapr-decryption-key-name and dapr-data-encryption-cipher', async () => {
    const omitted = Buffer.from(
      await (await put(`${base}/localvault/encrypt`, 'x', { 'dapr-key-name': 'symmetric256', 'dapr-key-wrap-algorithm': 'A256KW', 'dapr-omit-decryption-key-name': 'true' })).arrayBuffer(),
    );
    expect(omitted.toString('latin1').split('\n')[1]).toMatch(/^\{"kw":1,/);
    const named = Buffer.from(
      await (
        await put(`${base}/localvault/encrypt`, 'x', {
          'dapr-key-name': 'rsa-public-key.pem',
          'dapr-key-wrap-algorithm': 'RSA-OAEP-256',
          'dapr-decryption-key-name': 'rsa-private-key.pem',
          'dapr-data-encryption-cipher': 'chacha20-poly1305',
        })
      ).arrayBuffer(),
    );
    expect(named.toString('latin1').split('\n')[1]).toMatch(/^\{"k":"rsa-private-key.pem","kw":5,.*"cph":2,/);
    const dec = await put(`${base}/localvault/decrypt`, omitted, { 'dapr-key-name': 'symmetric256' });
    expect(await dec.text()).toBe('x');
  });

  it('answers the SubtleCrypto routes with 501 ERR_API_UNIMPLEMENTED, as daprd release builds do', async () => {
    const res = await fetch(`http://127.0.0.1:${weft.httpPort}/v1.0-alpha1/subtlecrypto/localvault/getkey`, { method: 'POST', body: '{"name":"rsa-private-key.pem"}' });
    expect(res.status).toBe(501);
    expect(await res.json()).toEqual({ errorCode: 'ERR_API_UNIMPLEMENTED', message: 'this API is currently not implemented' });
  });

  it.each([
    ['an unknown component', 'nope/encrypt', { 'dapr-key-name': 'k', 'dapr-key-wrap-algorithm': 'AES' }, 400, 'ERR_CRYPTO_PROVIDER_NOT_FOUND', 'crypto provider nope not found'],
    ['no key name', 'localvault/encrypt', { 'dapr-key-wrap-algorithm': 'AES' }, 400, 'ERR_BAD_REQUEST', "invalid request: missing header 'dapr-key-name'"],
    ['no algorithm', 'localvault/encrypt', { 'dapr-key-name': 'symmetric256' }, 400, 'ERR_BAD_REQUEST', "invalid request: missing header 'dapr-key-wrap-algorithm'"],
    ['an unknown algorithm', 'localvault/encrypt', { 'dapr-key-name': 'symmetric256', 'dapr-key-wrap-algorithm': 'A128KW' }, 500, 'ERR_CRYPTO', 'failed to perform operation: option Algorithm is not valid: algorithm A128KW is not supported'],
    ['a document that is not one', 'localvault/decrypt', {}, 500, 'ERR_CRYPTO', 'failed to perform operation: invalid header: unsupported scheme'],
  ])('answers %s with Dapr\'s status and error code', async (_what, route, headers, status, errorCode, message) => {
    const res = await put(`${base}/${route}`, 'not encrypted\n', headers);
    expect(res.status).toBe(status);
    expect(await res.json()).toEqual({ errorCode, message });
  });
});

it('counts key wraps and unwraps in dapr_component_crypto_count, failures included', async () => {
  const enc = await client.crypto.encrypt('m', { componentName: 'jwksvault', keyName: 'jwks-aes', keyWrapAlgorithm: 'AES' });
  await client.crypto.decrypt(enc, { componentName: 'jwksvault' });
  await thrownBy(() => client.crypto.encrypt('m', { componentName: 'jwksvault', keyName: 'absent-key', keyWrapAlgorithm: 'AES' }));
  const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
  const count = (success: string) =>
    Number(new RegExp(`^dapr_component_crypto_count\\{[^}]*component="jwksvault"[^}]*operation="crypto_op"[^}]*success="${success}"[^}]*\\} (\\d+)`, 'm').exec(text)?.[1] ?? 0);
  expect(count('true')).toBeGreaterThanOrEqual(2);
  expect(count('false')).toBeGreaterThanOrEqual(1);
});
