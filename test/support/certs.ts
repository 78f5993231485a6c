/**
 * Test certificates made with the `openssl` CLI: CAs and workload certificates carrying Dapr SPIFFE
 * IDs (`spiffe://<trustDomain>/ns/<namespace>/<appId>`), P-256 keys, written as PEM files.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const OPENSSL = process.env['OPENSSL'] ?? 'openssl';

/** A certificate and its key on disk. */
export interface CertFiles {
  cert: string;
  key: string;
}

/** A self-signed CA in `dir` (`<name>.crt`, `<name>.key`). */
export async function makeCa(dir: string, name: string): Promise<CertFiles> {
  const files = { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
  await run(OPENSSL, [
    'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
    '-keyout', files.key, '-out', files.cert, '-days', '2', '-subj', `/CN=${name}`,
    '-addext', 'basicConstraints=critical,CA:true', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return files;
}

/** Options of {@link makeLeaf}. */
export interface LeafOptions {
  /** URI SAN; `spiffe://public/ns/default/<appId>` when only `appId` is given. */
  uri?: string;
  appId?: string;
  /** Extra SAN entries, e.g. `DNS:orders`. */
  extraSans?: string[];
}

/** A workload certificate signed by `ca` (`<name>.crt`, `<name>.key`). */
export async function makeLeaf(dir: string, name: string, ca: CertFiles, options: LeafOptions): Promise<CertFiles> {
  const files = { cert: path.join(dir, `${name}.crt`), key: path.join(dir, `${name}.key`) };
  const csr = path.join(dir, `${name}.csr`);
  const ext = path.join(dir, `${name}.ext`);
  const uri = options.uri ?? (options.appId ? `spiffe://public/ns/default/${options.appId}` : undefined);
  const sans = [...(uri ? [`URI:${uri}`] : []), ...(options.extraSans ?? [])];
  await fs.writeFile(
    ext,
    [
      'basicConstraints=critical,CA:false',
      'keyUsage=critical,digitalSignature',
      'extendedKeyUsage=serverAuth,clientAuth',
      ...(sans.length > 0 ? [`subjectAltName=${sans.join(',')}`] : []),
      '',
    ].join('\n'),
  );
  await run(OPENSSL, ['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', files.key, '-out', csr, '-subj', `/CN=${name}`]);
  await run(OPENSSL, ['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-set_serial', `0x${randomBytes(8).toString('hex')}`, '-days', '1', '-out', files.cert, '-extfile', ext]);
  return files;
}

/** Concatenates PEM files into `target` (a trust bundle). */
export async function bundle(target: string, ...files: string[]): Promise<string> {
  const parts = await Promise.all(files.map((f) => fs.readFile(f, 'utf8')));
  await fs.writeFile(target, parts.join(''));
  return target;
}
