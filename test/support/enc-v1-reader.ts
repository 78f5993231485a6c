/**
 * A second, independent reading of Dapr's `dapr.io/enc/v1` format (dapr/kit `schemes/enc/v1/README.md`)
 * for tests: it shares no code with `blocks/crypto/scheme.ts` and uses WebCrypto (`crypto.subtle`)
 * for HKDF, HMAC, AES-GCM, AES-KW and RSA-OAEP, so a mistake in Weft's encoder cannot be mirrored by
 * a matching mistake here. ChaCha20-Poly1305 is not in WebCrypto; that cipher falls back to Node's
 * `crypto`. Works on whole buffers: clarity over streaming.
 */
import nodeCrypto from 'node:crypto';

const { subtle } = globalThis.crypto;
const SEGMENT = 65536;
const TAG = 16;

/** How the reader obtains the file key from the manifest's wrapped key. */
export type ReaderKey =
  | { kind: 'identity' }
  | { kind: 'aes-kw'; key: Uint8Array }
  | { kind: 'rsa-oaep-256'; privateKeyPkcs8: Uint8Array };

/** What the reader found. */
export interface ReadDocument {
  manifest: { k?: string; kw: number; wfk: string; cph: number; np: string };
  plaintext: Buffer;
  segments: number;
}

async function hkdf(ikm: Uint8Array, salt: Uint8Array, info: string): Promise<Uint8Array> {
  const base = await subtle.importKey('raw', ikm, 'HKDF', false, ['deriveBits']);
  const bits = await subtle.deriveBits({ name: 'HKDF', hash: 'SHA-256', salt, info: new TextEncoder().encode(info) }, base, 256);
  return new Uint8Array(bits);
}

async function unwrapFileKey(wfk: Uint8Array, key: ReaderKey): Promise<Uint8Array> {
  switch (key.kind) {
    case 'identity':
      return wfk;
    case 'aes-kw': {
      const kek = await subtle.importKey('raw', key.key, 'AES-KW', false, ['unwrapKey']);
      const fk = await subtle.unwrapKey('raw', wfk, kek, 'AES-KW', { name: 'HMAC', hash: 'SHA-256' }, true, ['sign']);
      return new Uint8Array(await subtle.exportKey('raw', fk));
    }
    case 'rsa-oaep-256': {
      const priv = await subtle.importKey('pkcs8', key.privateKeyPkcs8, { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['decrypt']);
      return new Uint8Array(await subtle.decrypt({ name: 'RSA-OAEP' }, priv, wfk));
    }
  }
}

/** Parses, authenticates and decrypts a whole document; throws on any mismatch. */
export async function readEncV1(doc: Buffer, key: ReaderKey): Promise<ReadDocument> {
  const nl1 = doc.indexOf(10);
  const nl2 = doc.indexOf(10, nl1 + 1);
  const nl3 = doc.indexOf(10, nl2 + 1);
  if (nl1 < 0 || nl2 < 0 || nl3 < 0) throw new Error('header incomplete');
  if (doc.subarray(0, nl1).toString() !== 'dapr.io/enc/v1') throw new Error('wrong scheme line');
  const manifestText = doc.subarray(nl1 + 1, nl2);
  const manifest = JSON.parse(manifestText.toString()) as ReadDocument['manifest'];
  const fileKey = await unwrapFileKey(Buffer.from(manifest.wfk, 'base64'), key);
  const noncePrefix = Buffer.from(manifest.np, 'base64');
  if (noncePrefix.length !== 7) throw new Error('nonce prefix is not 7 bytes');

  const macKey = await subtle.importKey('raw', await hkdf(fileKey, new Uint8Array(0), 'header'), { name: 'HMAC', hash: 'SHA-256' }, false, ['verify']);
  const signed = doc.subarray(0, nl2 + 1);
  const mac = Buffer.from(doc.subarray(nl2 + 1, nl3).toString(), 'base64');
  if (!(await subtle.verify('HMAC', macKey, mac, signed))) throw new Error('header MAC does not verify');

  const payloadKey = await hkdf(fileKey, noncePrefix, 'payload');
  const body = doc.subarray(nl3 + 1);
  const out: Buffer[] = [];
  let segments = 0;
  for (let offset = 0, i = 0; offset < body.length; offset += SEGMENT + TAG, i++) {
    const sealed = body.subarray(offset, Math.min(offset + SEGMENT + TAG, body.length));
    const last = offset + SEGMENT + TAG >= body.length;
    const nonce = Buffer.alloc(12);
    noncePrefix.copy(nonce);
    nonce.writeUInt32BE(i, 7);
    nonce[11] = last ? 1 : 0;
    if (manifest.cph === 1) {
      const k = await subtle.importKey('raw', payloadKey, 'AES-GCM', false, ['decrypt']);
      out.push(Buffer.from(await subtle.decrypt({ name: 'AES-GCM', iv: nonce, tagLength: 128 }, k, sealed)));
    } else if (manifest.cph === 2) {
      const d = nodeCrypto.createDecipheriv('chacha20-poly1305', payloadKey, nonce, { authTagLength: TAG });
      d.setAuthTag(sealed.subarray(sealed.length - TAG));
      out.push(Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG)), d.final()]));
    } else {
      throw new Error(`unknown cipher id ${manifest.cph}`);
    }
    segments++;
  }
  return { manifest, plaintext: Buffer.concat(out), segments };
}
