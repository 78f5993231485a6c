import crypto from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { readEncV1 } from '../../../../../test/support/enc-v1-reader.js';
import { SEGMENT_SIZE, decrypt, encrypt } from './scheme.js';
import type { UnwrapKeyFn, WrapKeyFn } from './scheme.js';

const VECTORS = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../../../test/fixtures/crypto/dapr-kit');

/** dapr/kit's scheme tests wrap with the identity: `wfk` is the file key itself. */
const identityWrap: WrapKeyFn = async (fileKey) => Buffer.from(fileKey);
const identityUnwrap: UnwrapKeyFn = async (wrapped) => wrapped;

const repeat = (pattern: number[], times: number) => Buffer.from(Array.from({ length: times }, () => pattern).flat());
const DIGITS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 0];
const EIGHT = [1, 2, 3, 4, 5, 6, 7, 8];

async function* chunks(data: Buffer, size = 2048): AsyncIterable<Buffer> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}

async function collect(stream: AsyncIterable<Buffer>): Promise<Buffer> {
  const out: Buffer[] = [];
  for await (const c of stream) out.push(c);
  return Buffer.concat(out);
}

async function roundTrip(plaintext: Buffer, cipher?: string): Promise<Buffer> {
  return collect(await encrypt(chunks(plaintext), { wrapKey: identityWrap, algorithm: 'AES', keyName: 'mykey', ...(cipher ? { cipher } : {}) }));
}

describe('dapr/kit test vectors (made by Dapr\'s Go implementation)', () => {
  const cases: [string, Buffer][] = [
    ['single-segment.enc', Buffer.from('hello world')],
    ['multi-segment.enc', repeat(DIGITS, 12 * 1024)],
    ['one-full-segment.enc', repeat(EIGHT, 8 * 1024)],
    ['two-full-segments.enc', repeat(EIGHT, 16 * 1024)],
    ['large-file.enc', repeat(DIGITS, 30 * 1024)],
    ['empty-message.enc', Buffer.alloc(0)],
  ];
  it.each(cases)('decrypts %s to the plaintext Dapr encrypted', async (file, expected) => {
    const doc = await fs.readFile(path.join(VECTORS, file));
    const plain = await collect(await decrypt(chunks(doc, 1000), { unwrapKey: identityUnwrap }));
    expect(plain.equals(expected)).toBe(true);
  });

  it('decrypts a document without a key name when the caller names the key, and passes that name to the unwrap', async () => {
    const doc = await fs.readFile(path.join(VECTORS, 'single-segment-no-key-name.enc'));
    const names: string[] = [];
    const plain = await collect(
      await decrypt(chunks(doc), { keyName: 'mykey', unwrapKey: async (w, _alg, name) => (names.push(name), w) }),
    );
    expect(plain.toString()).toBe('hello world');
    expect(names).toEqual(['mykey']);
  });

  it("refuses a document without a key name when the caller names none, with dapr/kit's message", async () => {
    const doc = await fs.readFile(path.join(VECTORS, 'single-segment-no-key-name.enc'));
    await expect(decrypt(chunks(doc), { unwrapKey: identityUnwrap })).rejects.toThrow(
      "document's manifest does not contain a key name, and no key name was provided",
    );
  });

  it('the independent reader agrees with the vectors too (it is a valid oracle)', async () => {
    const doc = await fs.readFile(path.join(VECTORS, 'multi-segment.enc'));
    const read = await readEncV1(doc, { kind: 'identity' });
    expect(read.plaintext.equals(repeat(DIGITS, 12 * 1024))).toBe(true);
    expect(read.segments).toBe(2);
  });
});

describe('documents Weft encrypts, read by an independent implementation of the format', () => {
  const sizes = [0, 1, 11, SEGMENT_SIZE - 1, SEGMENT_SIZE, SEGMENT_SIZE + 1, 2 * SEGMENT_SIZE, 300 * 1024 + 7];
  for (const cipher of ['AES-GCM', 'CHACHA20-POLY1305']) {
    it.each(sizes)(`reads a %i-byte plaintext sealed with ${cipher}`, async (size) => {
      const plaintext = crypto.randomBytes(size);
      const doc = await roundTrip(plaintext, cipher);
      const read = await readEncV1(doc, { kind: 'identity' });
      expect(read.plaintext.equals(plaintext)).toBe(true);
      expect(read.segments).toBe(Math.ceil(size / SEGMENT_SIZE));
      expect(read.manifest.cph).toBe(cipher === 'AES-GCM' ? 1 : 2);
      expect(read.manifest.kw).toBe(1);
      // Exactly Dapr's overhead: 16 bytes per segment after the header.
      const headerLength = doc.indexOf(10, doc.indexOf(10, doc.indexOf(10) + 1) + 1) + 1;
      expect(doc.length - headerLength).toBe(size + 16 * Math.ceil(size / SEGMENT_SIZE));
    });
  }

  it('writes the manifest compactly with dapr/kit\'s field order and a 44-character MAC line', async () => {
    const doc = await roundTrip(Buffer.from('x'));
    const [scheme, manifest, mac] = doc.toString('latin1').split('\n');
    expect(scheme).toBe('dapr.io/enc/v1');
    expect(manifest).toMatch(/^\{"k":"mykey","kw":1,"wfk":"[A-Za-z0-9+/]{43}=","cph":1,"np":"[A-Za-z0-9+/]{10}=="\}$/);
    expect(mac).toHaveLength(44);
  });

  it('names the decryption key in the manifest, or no key when asked to omit it', async () => {
    const named = await collect(await encrypt(chunks(Buffer.from('a')), { wrapKey: identityWrap, algorithm: 'RSA', keyName: 'pub', decryptionKeyName: 'priv' }));
    expect(named.toString('latin1').split('\n')[1]).toMatch(/^\{"k":"priv","kw":5,/);
    const omitted = await collect(
      await encrypt(chunks(Buffer.from('a')), { wrapKey: identityWrap, algorithm: 'A256KW', keyName: 'k', decryptionKeyName: 'ignored', omitKeyName: true }),
    );
    expect(omitted.toString('latin1').split('\n')[1]).toMatch(/^\{"kw":1,/);
  });

  it('escapes <, > and & in a key name as Go\'s JSON encoder does', async () => {
    const doc = await collect(await encrypt(chunks(Buffer.from('a')), { wrapKey: identityWrap, algorithm: 'AES', keyName: 'a<b>&c' }));
    expect(doc.toString('latin1').split('\n')[1]).toContain('"k":"a\\u003cb\\u003e\\u0026c"');
    const plain = await collect(await decrypt(chunks(doc), { unwrapKey: async (w, _a, name) => (expect(name).toBe('a<b>&c'), w) }));
    expect(plain.toString()).toBe('a');
  });
});

describe('failures, with dapr/kit\'s messages', () => {
  it('rejects an unknown key wrap algorithm and cipher before wrapping', async () => {
    await expect(encrypt(chunks(Buffer.from('a')), { wrapKey: identityWrap, algorithm: 'A128KW', keyName: 'k' })).rejects.toThrow(
      'option Algorithm is not valid: algorithm A128KW is not supported',
    );
    await expect(encrypt(chunks(Buffer.from('a')), { wrapKey: identityWrap, algorithm: 'AES', keyName: 'k', cipher: 'AES-CBC' })).rejects.toThrow(
      'option Cipher is not valid: cipher AES-CBC is not supported',
    );
  });

  it('reports a failed wrap', async () => {
    await expect(
      encrypt(chunks(Buffer.from('a')), { wrapKey: async () => Promise.reject(new Error('boom')), algorithm: 'AES', keyName: 'k' }),
    ).rejects.toThrow('failed to wrap the file key: boom');
  });

  it('reports a wrong key as a bad signature, not as a failed unwrap', async () => {
    const doc = await roundTrip(Buffer.from('secret'));
    await expect(decrypt(chunks(doc), { unwrapKey: async () => crypto.randomBytes(32) })).rejects.toThrow("failed to validate the document's signature");
    await expect(decrypt(chunks(doc), { unwrapKey: async () => Promise.reject(new Error('no such key')) })).rejects.toThrow(
      "failed to validate the document's signature",
    );
  });

  it('fails on a tampered segment without yielding it', async () => {
    const plaintext = crypto.randomBytes(3 * SEGMENT_SIZE);
    const doc = await roundTrip(plaintext);
    doc[doc.length - 100]! ^= 1;
    const out: Buffer[] = [];
    const stream = await decrypt(chunks(doc), { unwrapKey: identityUnwrap });
    await expect(
      (async () => {
        for await (const c of stream) out.push(c);
      })(),
    ).rejects.toThrow('failed to decrypt segment');
    expect(Buffer.concat(out).equals(plaintext.subarray(0, 2 * SEGMENT_SIZE))).toBe(true);
  });

  it('detects a document cut at a segment boundary (the last segment is flagged in its nonce)', async () => {
    const doc = await roundTrip(crypto.randomBytes(2 * SEGMENT_SIZE + 10));
    const cut = doc.subarray(0, doc.length - (10 + 16));
    await expect(collect(await decrypt(chunks(cut), { unwrapKey: identityUnwrap }))).rejects.toThrow('failed to decrypt segment');
  });

  it('rejects a document with a tampered manifest', async () => {
    const doc = await roundTrip(Buffer.from('a'));
    const text = doc.toString('latin1').replace('"cph":1', '"cph":2');
    await expect(decrypt(chunks(Buffer.from(text, 'latin1')), { unwrapKey: identityUnwrap })).rejects.toThrow("failed to validate the document's signature");
  });

  it.each([
    ['not the scheme', 'hello\nworld\nmac\n', 'invalid header: unsupported scheme'],
    ['an empty line', 'dapr.io/enc/v1\n\nmac\n', 'invalid header: invalid format'],
    ['no newline at all', 'dapr.io/enc/v1', 'invalid header: scheme name not found'],
    ['no MAC', 'dapr.io/enc/v1\n{}\n', 'invalid header: message authentication code not found'],
    ['a manifest that is not one', 'dapr.io/enc/v1\n{"kw":9}\nAAAA\n', 'invalid header: invalid manifest'],
  ])('rejects a header with %s', async (_what, text, message) => {
    await expect(decrypt(chunks(Buffer.from(text)), { unwrapKey: identityUnwrap })).rejects.toThrow(message);
  });
});
