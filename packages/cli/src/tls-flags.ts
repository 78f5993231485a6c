/**
 * Flags of sidecar-to-sidecar mTLS. daprd's `--enable-mtls` turns it on and, as daprd reads them, the
 * certificates may come as PEM text in `DAPR_TRUST_ANCHORS`, `DAPR_CERT_CHAIN` and `DAPR_CERT_KEY`; in
 * Weft the chain and key are this sidecar's own workload certificate (Weft has no Sentry to issue
 * one). The `--tls-*-file` flags name files instead, which are re-read when they change; giving any of
 * them turns mTLS on. A file flag wins over the matching variable.
 */
import path from 'node:path';
import { Option } from 'commander';
import type { Command } from 'commander';
import type { MtlsSources, PemSource } from '@weft/runtime';

/** The values of {@link addTlsFlags}. */
export interface TlsFlagValues {
  enableMtls?: boolean;
  tlsCertFile?: string;
  tlsKeyFile?: string;
  tlsCaFile?: string;
}

const parseBool = (value: string | boolean) => value === true || String(value).toLowerCase() !== 'false';

/** Adds the mTLS flags to a command. */
export function addTlsFlags(command: Command): Command {
  return command
    .addOption(
      new Option('--enable-mtls [enabled]', 'mutual TLS between sidecars (true|false); certificates from the --tls-*-file flags or DAPR_CERT_CHAIN, DAPR_CERT_KEY, DAPR_TRUST_ANCHORS').argParser(
        parseBool,
      ),
    )
    .option(
      '--tls-cert-file <file>',
      "this sidecar's certificate chain (PEM, leaf first) with the URI SAN spiffe://<trust domain>/ns/<namespace>/<app id>; turns mTLS on",
    )
    .option('--tls-key-file <file>', 'the private key of --tls-cert-file (PEM, unencrypted); turns mTLS on')
    .option('--tls-ca-file <file>', "trust anchors: the CA certificates (PEM) that sign every sidecar's certificate; turns mTLS on");
}

/**
 * The mTLS sources the flags and environment give, or undefined when mTLS is off. Throws when mTLS is
 * on and an input is missing, naming the flag and variable that would give it.
 */
export function mtlsSourcesFromFlags(values: TlsFlagValues, env: NodeJS.ProcessEnv, cwd = process.cwd()): MtlsSources | undefined {
  const files = [values.tlsCertFile, values.tlsKeyFile, values.tlsCaFile].filter((f) => f !== undefined);
  if (values.enableMtls === false) {
    if (files.length > 0) throw new Error('--enable-mtls=false contradicts the --tls-*-file flags given');
    return undefined;
  }
  if (!values.enableMtls && files.length === 0) return undefined;
  const missing: string[] = [];
  const source = (file: string | undefined, flag: string, variable: string): PemSource => {
    if (file !== undefined) return { file: path.resolve(cwd, file), flag };
    const pem = env[variable];
    if (pem) return { env: variable, pem };
    missing.push(`${flag} (or ${variable})`);
    return { env: variable, pem: '' };
  };
  const sources: MtlsSources = {
    certChain: source(values.tlsCertFile, '--tls-cert-file', 'DAPR_CERT_CHAIN'),
    key: source(values.tlsKeyFile, '--tls-key-file', 'DAPR_CERT_KEY'),
    trustAnchors: source(values.tlsCaFile, '--tls-ca-file', 'DAPR_TRUST_ANCHORS'),
  };
  if (missing.length > 0) throw new Error(`mTLS is enabled but ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not given`);
  return sources;
}
