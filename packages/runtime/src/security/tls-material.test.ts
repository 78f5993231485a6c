import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundle, makeCa, makeLeaf } from '../../../../test/support/certs.js';
import type { CertFiles } from '../../../../test/support/certs.js';
import { TlsConfigError, loadTlsMaterial } from './tls-material.js';
import type { MtlsSources } from './tls-material.js';

describe('mTLS certificate checks', () => {
  let dir: string;
  let ca: CertFiles;
  let other: CertFiles;
  let leaf: CertFiles;
  const self = { appId: 'orders', namespace: 'default' };
  const files = (cert: string, key: string, anchors: string): MtlsSources => ({
    certChain: { file: cert, flag: '--tls-cert-file' },
    key: { file: key, flag: '--tls-key-file' },
    trustAnchors: { file: anchors, flag: '--tls-ca-file' },
  });
  const failure = async (sources: MtlsSources) => {
    const err = await loadTlsMaterial(sources, self).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TlsConfigError);
    return err as TlsConfigError;
  };

  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-tls-material-'));
    ca = await makeCa(dir, 'ca');
    other = await makeCa(dir, 'other');
    leaf = await makeLeaf(dir, 'orders', ca, { appId: 'orders' });
  });

  afterAll(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it('loads a workload certificate and reads its SPIFFE ID', async () => {
    const material = await loadTlsMaterial(files(leaf.cert, leaf.key, ca.cert), self);
    expect(material.identity).toEqual({ trustDomain: 'public', namespace: 'default', appId: 'orders' });
  });

  it('accepts PEM text from daprd-style variables, also with literal \\n on one line', async () => {
    const oneLine = async (f: string) => (await fs.readFile(f, 'utf8')).trim().replace(/\n/g, '\\n');
    const material = await loadTlsMaterial(
      {
        certChain: { env: 'DAPR_CERT_CHAIN', pem: await oneLine(leaf.cert) },
        key: { env: 'DAPR_CERT_KEY', pem: await oneLine(leaf.key) },
        trustAnchors: { env: 'DAPR_TRUST_ANCHORS', pem: await fs.readFile(ca.cert, 'utf8') },
      },
      self,
    );
    expect(material.identity.appId).toBe('orders');
  });

  it('names the file that cannot be read and the one that holds no certificate', async () => {
    expect((await failure(files(path.join(dir, 'missing.crt'), leaf.key, ca.cert))).message).toBe(`cannot read --tls-cert-file ${path.join(dir, 'missing.crt')}: no such file`);
    const err = await failure(files(leaf.key, leaf.key, ca.cert));
    expect(err.reason).toBe('parse');
    expect(err.message).toContain(`--tls-cert-file ${leaf.key} holds no PEM certificate`);
  });

  it('refuses a key that belongs to another certificate', async () => {
    const err = await failure(files(leaf.cert, ca.key, ca.cert));
    expect(err.reason).toBe('key_mismatch');
    expect(err.message).toBe(`the private key in --tls-key-file ${ca.key} does not belong to the certificate in --tls-cert-file ${leaf.cert}`);
  });

  it('refuses a certificate without a SPIFFE ID, or naming another app', async () => {
    const bare = await makeLeaf(dir, 'bare', ca, { extraSans: ['DNS:orders'] });
    expect((await failure(files(bare.cert, bare.key, ca.cert))).message).toContain('has no SPIFFE ID: add the URI subject alternative name spiffe://<trust domain>/ns/default/orders');
    const cart = await makeLeaf(dir, 'cart', ca, { uri: 'spiffe://public/ns/shop/cart' });
    const err = await failure(files(cart.cert, cart.key, ca.cert));
    expect(err.reason).toBe('identity');
    expect(err.message).toContain('identifies spiffe://public/ns/shop/cart, but this sidecar is app "orders" in namespace "default"');
  });

  it('refuses a certificate no trust anchor signs, and accepts it once a bundle holds its CA', async () => {
    const err = await failure(files(leaf.cert, leaf.key, other.cert));
    expect(err.reason).toBe('untrusted');
    expect(err.message).toBe(`--tls-cert-file ${leaf.cert} is not signed by any trust anchor in --tls-ca-file ${other.cert}`);
    const both = await bundle(path.join(dir, 'both.crt'), other.cert, ca.cert);
    await expect(loadTlsMaterial(files(leaf.cert, leaf.key, both), self)).resolves.toMatchObject({ identity: { appId: 'orders' } });
  });
});
