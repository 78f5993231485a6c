/**
 * HTTP routes of the cryptography API: `PUT /v1.0-alpha1/crypto/{name}/encrypt|decrypt` with the
 * body as the document and options in `dapr-*` headers, answering `application/octet-stream`. As in
 * daprd, the component is checked before the headers, and the body is processed whole.
 */
import type { IncomingHttpHeaders } from 'node:http';
import type { HttpReply, HttpRoute } from '../../api/http/types.js';
import { ApiError } from '../../errors/index.js';
import type { CryptoBlock } from './crypto-block.js';
import { cryptoErrors, httpStreamFailure } from './errors.js';
import { subtleCryptoRoutes } from './subtle.js';

function header(headers: IncomingHttpHeaders, name: string): string {
  const value = headers[name];
  return (Array.isArray(value) ? value[0] : value) ?? '';
}

/** dapr/kit's `utils.IsTruthy`. */
function truthy(value: string): boolean {
  return ['y', 'yes', 'true', 't', 'on', '1'].includes(value.trim().toLowerCase());
}

async function* once(body: Buffer): AsyncIterable<Buffer> {
  yield body;
}

async function collect(output: AsyncIterable<Buffer>): Promise<HttpReply> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of output) chunks.push(chunk);
  } catch (err) {
    throw err instanceof ApiError ? err : httpStreamFailure((err as Error).message);
  }
  return { status: 200, headers: { 'content-type': 'application/octet-stream' }, body: Buffer.concat(chunks) };
}

/** The crypto routes over a {@link CryptoBlock}, plus the subtle crypto routes (see `subtle.ts`). */
export function cryptoRoutes(crypto: CryptoBlock): HttpRoute[] {
  return [
    ...subtleCryptoRoutes(),
    {
      methods: ['PUT'],
      path: '/v1.0-alpha1/crypto/:name/encrypt',
      group: 'crypto',
      name: 'Encrypt',
      handler: async (req) => {
        const componentName = req.params['name'] ?? '';
        crypto.provider(componentName);
        const keyName = header(req.headers, 'dapr-key-name');
        if (keyName === '') throw cryptoErrors.badRequest("missing header 'dapr-key-name'");
        const keyWrapAlgorithm = header(req.headers, 'dapr-key-wrap-algorithm');
        if (keyWrapAlgorithm === '') throw cryptoErrors.badRequest("missing header 'dapr-key-wrap-algorithm'");
        const output = await crypto.encrypt(
          {
            componentName,
            keyName,
            keyWrapAlgorithm,
            omitDecryptionKeyName: truthy(header(req.headers, 'dapr-omit-decryption-key-name')),
            decryptionKeyName: header(req.headers, 'dapr-decryption-key-name'),
            dataEncryptionCipher: header(req.headers, 'dapr-data-encryption-cipher'),
          },
          once(req.body),
        );
        return collect(output);
      },
    },
    {
      methods: ['PUT'],
      path: '/v1.0-alpha1/crypto/:name/decrypt',
      group: 'crypto',
      name: 'Decrypt',
      handler: async (req) => {
        const output = await crypto.decrypt({ componentName: req.params['name'] ?? '', keyName: header(req.headers, 'dapr-key-name') }, once(req.body));
        return collect(output);
      },
    },
  ];
}
