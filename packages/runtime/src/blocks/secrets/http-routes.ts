/** HTTP routes of the secrets API (`/v1.0/secrets/{store}/{key}` and `/bulk`). */
import type { SecretsBlock } from './secrets-block.js';
import type { HttpRoute } from '../../api/http/types.js';
import { jsonReply, metadataFromQuery, noContent } from '../../api/http/types.js';

/** The secrets routes over a {@link SecretsBlock}. */
export function secretsRoutes(secrets: SecretsBlock): HttpRoute[] {
  return [
    {
      methods: ['GET'],
      path: '/v1.0/secrets/:storeName/bulk',
      group: 'secrets',
      name: 'GetBulkSecret',
      handler: async (req) => jsonReply(200, await secrets.bulk(req.params['storeName'] ?? '', metadataFromQuery(req.query))),
    },
    {
      methods: ['GET'],
      path: '/v1.0/secrets/:storeName/:key',
      group: 'secrets',
      name: 'GetSecret',
      handler: async (req) => {
        const secret = await secrets.get(req.params['storeName'] ?? '', req.params['key'] ?? '', metadataFromQuery(req.query));
        return Object.keys(secret).length === 0 ? noContent() : jsonReply(200, secret);
      },
    },
  ];
}
