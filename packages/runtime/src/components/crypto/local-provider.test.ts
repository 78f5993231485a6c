/**
 * Known-answer tests for the key wrap algorithms, so interoperability rests on the standards' own
 * vectors and not only on round trips through Weft.
 */
import crypto from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../logging/logger.js';
import { JwksCryptoProvider } from './jwks/jwks-provider.js';

async function providerWith(keys: object[]): Promise<JwksCryptoProvider> {
  const p = new JwksCryptoProvider();
  await p.init({ jwks: JSON.stringify({ keys }) }, { name: 'kat', appId: 't', namespace: '', dataDir: '.', logger: silentLogger(), env: {} });
  return p;
}

describe('A256KW (RFC 3394)', () => {
  // RFC 3394 §4.6: wrap 256 bits of key data with a 256-bit KEK.
  const kek = Buffer.from('000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F', 'hex');
  const keyData = Buffer.from('00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F', 'hex');
  const wrapped = Buffer.from('28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21', 'hex');

  it('wraps the RFC vector to the RFC ciphertext and unwraps it back', async () => {
    const p = await providerWith([{ kid: 'kek', kty: 'oct', k: kek.toString('base64url') }]);
    expect((await p.wrapKey(keyData, 'A256KW', 'kek')).equals(wrapped)).toBe(true);
    expect((await p.unwrapKey(wrapped, 'A256KW', 'kek')).equals(keyData)).toBe(true);
  });

  it('refuses a wrapped key that fails the integrity check', async () => {
    const p = await providerWith([{ kid: 'kek', kty: 'oct', k: kek.toString('base64url') }]);
    const bad = Buffer.from(wrapped);
    bad[0]! ^= 1;
    await expect(p.unwrapKey(bad, 'A256KW', 'kek')).rejects.toThrow('failed to decrypt data:');
  });
});

describe('RSA-OAEP-256', () => {
  it('produces what WebCrypto (RSA-OAEP, SHA-256) decrypts', async () => {
    const pair = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
    const p = await providerWith([{ kid: 'rsa', ...pair.publicKey.export({ format: 'jwk' }) }]);
    const fk = crypto.randomBytes(32);
    const wrapped = await p.wrapKey(fk, 'RSA-OAEP-256', 'rsa');
    const priv = await globalThis.crypto.subtle.importKey('pkcs8', pair.privateKey.export({ format: 'der', type: 'pkcs8' }), { name: 'RSA-OAEP', hash: 'SHA-256' }, false, ['decrypt']);
    const out = Buffer.from(await globalThis.crypto.subtle.decrypt({ name: 'RSA-OAEP' }, priv, wrapped));
    expect(out.equals(fk)).toBe(true);
  });
});
