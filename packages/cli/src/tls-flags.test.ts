import path from 'node:path';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addTlsFlags, mtlsSourcesFromFlags } from './tls-flags.js';
import type { TlsFlagValues } from './tls-flags.js';

function parse(args: string[]): TlsFlagValues {
  const command = addTlsFlags(new Command('sidecar').exitOverride());
  command.parse(args, { from: 'user' });
  return command.opts<TlsFlagValues>();
}

describe('mTLS flags', () => {
  it('is off without flags', () => {
    expect(mtlsSourcesFromFlags(parse([]), {}, '/w')).toBeUndefined();
  });

  it('turns on with the file flags alone, resolving them against the working directory', () => {
    expect(mtlsSourcesFromFlags(parse(['--tls-cert-file', 'a.crt', '--tls-key-file', '/k/a.key', '--tls-ca-file', 'ca.crt']), {}, '/w')).toEqual({
      certChain: { file: path.resolve('/w', 'a.crt'), flag: '--tls-cert-file' },
      key: { file: '/k/a.key', flag: '--tls-key-file' },
      trustAnchors: { file: path.resolve('/w', 'ca.crt'), flag: '--tls-ca-file' },
    });
  });

  it('lets a file flag win over its DAPR_* variable and fills the rest from the variables', () => {
    const sources = mtlsSourcesFromFlags(parse(['--enable-mtls', '--tls-ca-file', '/ca.crt']), { DAPR_TRUST_ANCHORS: 'x', DAPR_CERT_CHAIN: 'c', DAPR_CERT_KEY: 'k' }, '/w');
    expect(sources?.trustAnchors).toEqual({ file: '/ca.crt', flag: '--tls-ca-file' });
    expect(sources?.certChain).toEqual({ env: 'DAPR_CERT_CHAIN', pem: 'c' });
  });

  it('names what is missing when mTLS is on', () => {
    expect(() => mtlsSourcesFromFlags(parse(['--tls-cert-file', 'a.crt', '--tls-key-file', 'a.key']), {}, '/w')).toThrow(
      'mTLS is enabled but --tls-ca-file (or DAPR_TRUST_ANCHORS) is not given',
    );
  });

  it('refuses --enable-mtls=false together with certificate files', () => {
    expect(() => mtlsSourcesFromFlags(parse(['--enable-mtls=false', '--tls-cert-file', 'a.crt']), {}, '/w')).toThrow('--enable-mtls=false contradicts');
  });
});
