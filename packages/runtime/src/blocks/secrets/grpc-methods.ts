/** `GetSecret` and `GetBulkSecret` of the Dapr gRPC service over the {@link SecretsBlock}. */
import type { DaprGrpcMethods } from '../../api/grpc/dapr-service.js';
import type { SecretsBlock } from './secrets-block.js';

type StringMap = Record<string, string>;

/** The secret RPCs. */
export function secretMethods(secrets: SecretsBlock): DaprGrpcMethods {
  return {
    GetSecret: async (req: { store_name: string; key: string; metadata?: StringMap }) => ({
      data: await secrets.get(req.store_name, req.key, req.metadata ?? {}),
    }),
    GetBulkSecret: async (req: { store_name: string; metadata?: StringMap }) => {
      const all = await secrets.bulk(req.store_name, req.metadata ?? {});
      return { data: Object.fromEntries(Object.entries(all).map(([name, secret]) => [name, { secrets: secret }])) };
    },
  } as DaprGrpcMethods;
}
