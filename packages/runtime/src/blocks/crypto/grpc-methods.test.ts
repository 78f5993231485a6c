/**
 * The crypto streams seen by a raw `@grpc/grpc-js` client: chunking and sequence numbers both ways,
 * and each protocol error with daprd's status code and message.
 */
import crypto from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../../../../test/support/weft-process.js';
import { readEncV1 } from '../../../../../test/support/enc-v1-reader.js';
import { GrpcApiServer } from '../../api/grpc/server.js';
import { daprService, loadDaprRuntimePackage } from '../../api/grpc/protos.js';
import { JwksCryptoProvider } from '../../components/crypto/jwks/jwks-provider.js';
import type { LoadedComponent } from '../../components/manager.js';
import { silentLogger } from '../../logging/logger.js';
import { CryptoBlock } from './crypto-block.js';
import { cryptoGrpcMethods } from './grpc-methods.js';

const key = crypto.randomBytes(32);
const TOKEN = 'crypto-test-token';

type Stub = grpc.Client & Record<string, (metadata: grpc.Metadata) => grpc.ClientDuplexStream<object, { payload?: { data: Buffer; seq: number } }>>;

interface Outcome {
  chunks: { data: Buffer; seq: number }[];
  status: { code: number; details: string; errorCode?: string };
}

let servers: GrpcApiServer[] = [];
let stub: Stub;
let bareStub: Stub;

async function serve(block: CryptoBlock, allowed: (m: string) => boolean = () => true): Promise<Stub> {
  const logger = silentLogger();
  const server = new GrpcApiServer({ logger, maxMessageBytes: 4 * 1024 * 1024, apiToken: TOKEN });
  server.addUnaryService(daprService('dapr.proto.runtime.v1.Dapr'), {}, cryptoGrpcMethods(block, { logger, authorized: (c) => server.authorized(c), allowed, firstChunkTimeoutMs: 300 }));
  const port = await server.listen(await freePort(), '127.0.0.1');
  servers.push(server);
  const pkg = loadDaprRuntimePackage() as unknown as { dapr: { proto: { runtime: { v1: { Dapr: new (a: string, c: grpc.ChannelCredentials) => Stub } } } } };
  return new pkg.dapr.proto.runtime.v1.Dapr(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

/** Sends `messages`, half-closes (unless told not to), and gathers what comes back. */
function exchange(client: Stub, method: string, messages: object[], options: { token?: string; halfClose?: boolean } = {}): Promise<Outcome> {
  const metadata = new grpc.Metadata();
  metadata.set('dapr-api-token', options.token ?? TOKEN);
  const call = client[method]!(metadata);
  const chunks: Outcome['chunks'] = [];
  return new Promise((resolve) => {
    call.on('data', (m) => m.payload && chunks.push({ data: Buffer.from(m.payload.data), seq: Number(m.payload.seq) }));
    call.on('error', () => undefined);
    call.on('status', (s: grpc.StatusObject) => {
      const [code] = s.metadata.get('dapr-error-code');
      resolve({ chunks, status: { code: s.code, details: s.details, ...(code ? { errorCode: String(code) } : {}) } });
    });
    for (const m of messages) call.write(m);
    if (options.halfClose !== false) call.end();
  });
}

const encryptOptions = { component_name: 'vault', key_name: 'aes', key_wrap_algorithm: 'AES' };
const payload = (data: Buffer, seq: number) => ({ payload: { data, seq } });

function chunked(data: Buffer, size: number, first: object): object[] {
  const out: object[] = [];
  for (let i = 0, seq = 0; i === 0 || i < data.length; i += size, seq++) {
    out.push({ ...(seq === 0 ? first : {}), ...payload(data.subarray(i, i + size), seq) });
  }
  return out;
}

beforeAll(async () => {
  const provider = new JwksCryptoProvider();
  await provider.init(
    { jwks: JSON.stringify({ keys: [{ kid: 'aes', kty: 'oct', k: key.toString('base64url') }] }) },
    { name: 'vault', appId: 't', namespace: '', dataDir: '.', logger: silentLogger(), env: {} },
  );
  const loaded: LoadedComponent = { name: 'vault', type: 'crypto.dapr.jwks', version: 'v1', kind: 'crypto', properties: {}, instance: provider, source: 'test' };
  stub = await serve(new CryptoBlock({ ofKind: () => [loaded], get: (n) => (n === 'vault' ? loaded : undefined) }));
  bareStub = await serve(new CryptoBlock({ ofKind: () => [], get: () => undefined }), (m) => m !== 'DecryptAlpha1');
});

afterAll(async () => {
  stub?.close();
  bareStub?.close();
  await Promise.all(servers.map((s) => s.close(100)));
  servers = [];
});

describe('EncryptAlpha1 / DecryptAlpha1 streams', () => {
  it('answers the header, then one message per segment, numbered from 0, and decrypts back', async () => {
    const plaintext = crypto.randomBytes(3 * 65536 + 100);
    const enc = await exchange(stub, 'EncryptAlpha1', chunked(plaintext, 2048, { options: encryptOptions }));
    expect(enc.status.code).toBe(grpc.status.OK);
    expect(enc.chunks.map((c) => c.seq)).toEqual([0, 1, 2, 3, 4]);
    expect(enc.chunks[0]!.data.toString('latin1')).toMatch(/^dapr\.io\/enc\/v1\n\{.*\}\n[A-Za-z0-9+/]{43}=\n$/);
    expect(enc.chunks.slice(1).map((c) => c.data.length)).toEqual([65552, 65552, 65552, 116]);
    const doc = Buffer.concat(enc.chunks.map((c) => c.data));
    expect((await readEncV1(doc, { kind: 'aes-kw', key })).plaintext.equals(plaintext)).toBe(true);

    const dec = await exchange(stub, 'DecryptAlpha1', chunked(doc, 5000, { options: { component_name: 'vault' } }));
    expect(dec.status.code).toBe(grpc.status.OK);
    expect(Buffer.concat(dec.chunks.map((c) => c.data)).equals(plaintext)).toBe(true);
    expect(dec.chunks.map((c) => c.seq)).toEqual([0, 1, 2, 3]);
  });

  it('encrypts an empty message to a header alone', async () => {
    const enc = await exchange(stub, 'EncryptAlpha1', [{ options: encryptOptions }]);
    expect(enc.status.code).toBe(grpc.status.OK);
    expect(enc.chunks).toHaveLength(1);
    const dec = await exchange(stub, 'DecryptAlpha1', [{ options: { component_name: 'vault' }, ...payload(enc.chunks[0]!.data, 0) }]);
    expect(dec.status.code).toBe(grpc.status.OK);
    expect(dec.chunks).toHaveLength(0);
  });

  it.each([
    ['a sequence gap', [{ options: encryptOptions, ...payload(Buffer.from('a'), 0) }, payload(Buffer.from('b'), 2)], 13, 'ERR_CRYPTO', 'failed to perform operation: invalid sequence number received: 2 (expected: 1)'],
    ['options after the first message', [{ options: encryptOptions, ...payload(Buffer.from('a'), 0) }, { options: encryptOptions, ...payload(Buffer.from('b'), 1) }], 13, 'ERR_CRYPTO', 'failed to perform operation: options found in non-leading message'],
    ['a first message without options', [payload(Buffer.from('a'), 0)], 3, 'ERR_BAD_REQUEST', 'invalid request: first message does not contain the required options'],
    ['no key name', [{ options: { ...encryptOptions, key_name: '' } }], 3, 'ERR_BAD_REQUEST', "invalid request: missing property 'keyName' in the options message"],
    ['no key wrap algorithm', [{ options: { ...encryptOptions, key_wrap_algorithm: '' } }], 3, 'ERR_BAD_REQUEST', "invalid request: missing property 'keyWrapAlgorithm' in the options message"],
    ['no component name', [{ options: { ...encryptOptions, component_name: '' } }], 3, 'ERR_BAD_REQUEST', 'invalid request: missing component name'],
    ['an unknown cipher', [{ options: { ...encryptOptions, data_encryption_cipher: 'rot13' } }], 13, 'ERR_CRYPTO', 'failed to perform operation: option Cipher is not valid: cipher ROT13 is not supported'],
    ['no message at all', [], 13, 'ERR_CRYPTO', 'failed to perform operation: error receiving the first message: EOF'],
  ])('answers %s as daprd does', async (_what, messages, code, errorCode, details) => {
    const out = await exchange(stub, 'EncryptAlpha1', messages);
    expect(out.status).toEqual({ code, details, errorCode });
  });

  it('gives up on a first message that does not come in time with INVALID_ARGUMENT', async () => {
    const out = await exchange(stub, 'DecryptAlpha1', [], { halfClose: false });
    expect(out.status).toEqual({ code: 3, details: 'invalid request: error waiting for first message: context deadline exceeded', errorCode: 'ERR_BAD_REQUEST' });
  });

  it('answers ERR_CRYPTO_PROVIDERS_NOT_CONFIGURED when no crypto component is loaded', async () => {
    const out = await exchange(bareStub, 'EncryptAlpha1', [{ options: encryptOptions }]);
    expect(out.status).toEqual({ code: 13, details: 'crypto providers not configured', errorCode: 'ERR_CRYPTO_PROVIDERS_NOT_CONFIGURED' });
  });

  it('refuses a wrong API token and a method the configuration denies', async () => {
    expect((await exchange(stub, 'EncryptAlpha1', [{ options: encryptOptions }], { token: 'wrong' })).status.code).toBe(grpc.status.UNAUTHENTICATED);
    expect((await exchange(bareStub, 'DecryptAlpha1', [{ options: { component_name: 'vault' } }])).status.code).toBe(grpc.status.PERMISSION_DENIED);
  });
});

describe('large and abandoned streams', () => {
  async function encryptDoc(plaintext: Buffer): Promise<Buffer> {
    const enc = await exchange(stub, 'EncryptAlpha1', chunked(plaintext, 64 * 1024, { options: encryptOptions }));
    expect(enc.status.code).toBe(grpc.status.OK);
    return Buffer.concat(enc.chunks.map((c) => c.data));
  }

  it('fails a large decryption whose last segment was tampered with, after streaming the verified ones', async () => {
    const plaintext = crypto.randomBytes(8 * 1024 * 1024);
    const doc = await encryptDoc(plaintext);
    doc[doc.length - 1]! ^= 1;
    const dec = await exchange(stub, 'DecryptAlpha1', chunked(doc, 64 * 1024, { options: { component_name: 'vault' } }));
    expect(dec.status).toEqual({ code: 13, details: 'failed to perform operation: failed to decrypt segment', errorCode: 'ERR_CRYPTO' });
    const received = Buffer.concat(dec.chunks.map((c) => c.data));
    expect(received.length).toBeLessThan(plaintext.length);
    expect(received.equals(plaintext.subarray(0, received.length))).toBe(true);
  });

  it('keeps serving after a client cancels a large decryption halfway', async () => {
    const plaintext = crypto.randomBytes(4 * 1024 * 1024);
    const doc = await encryptDoc(plaintext);
    const metadata = new grpc.Metadata();
    metadata.set('dapr-api-token', TOKEN);
    const call = stub['DecryptAlpha1']!(metadata);
    const status = new Promise<number>((resolve) => call.on('status', (s: grpc.StatusObject) => resolve(s.code)));
    call.on('error', () => undefined);
    call.once('data', () => call.cancel());
    for (const m of chunked(doc, 64 * 1024, { options: { component_name: 'vault' } })) call.write(m);
    call.end();
    expect(await status).toBe(grpc.status.CANCELLED);
    const again = await exchange(stub, 'EncryptAlpha1', [{ options: encryptOptions, ...payload(Buffer.from('still here'), 0) }]);
    expect(again.status.code).toBe(grpc.status.OK);
  });
});

describe('SubtleCrypto', () => {
  it('answers every Subtle*Alpha1 method with UNIMPLEMENTED as daprd release builds do', async () => {
    type UnaryStub = Record<string, (req: object, md: grpc.Metadata, cb: (err: grpc.ServiceError | null) => void) => void>;
    const unary = stub as unknown as UnaryStub;
    for (const method of ['SubtleGetKeyAlpha1', 'SubtleEncryptAlpha1', 'SubtleDecryptAlpha1', 'SubtleWrapKeyAlpha1', 'SubtleUnwrapKeyAlpha1', 'SubtleSignAlpha1', 'SubtleVerifyAlpha1']) {
      const md = new grpc.Metadata();
      md.set('dapr-api-token', TOKEN);
      const err = await new Promise<grpc.ServiceError | null>((resolve) => unary[method]!.call(stub, { component_name: 'vault', name: 'aes' }, md, resolve));
      expect(err).toMatchObject({ code: grpc.status.UNIMPLEMENTED, details: 'this API is currently not implemented' });
      expect(err?.metadata.get('dapr-error-code')).toEqual(['ERR_API_UNIMPLEMENTED']);
    }
  });
});
