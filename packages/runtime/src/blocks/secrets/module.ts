/** The secrets block: `/v1.0/secrets/...` and `GetSecret`/`GetBulkSecret`, scoped by the Configuration. */
import { secretScopesPolicy } from '../../config/secret-scopes.js';
import type { BlockInstance, BlockModule } from '../block-module.js';
import { secretMethods } from './grpc-methods.js';
import { secretsRoutes } from './http-routes.js';
import { SecretsBlock } from './secrets-block.js';

/** A running secrets block. */
export interface SecretsBlockInstance extends BlockInstance {
  readonly secrets: SecretsBlock;
}

/** Secrets. */
export const secretsModule: BlockModule<SecretsBlockInstance> = {
  name: 'secrets',
  dependsOn: [],
  componentKinds: ['secretstores'],
  start: (ctx) => {
    const secrets = new SecretsBlock(ctx.components, secretScopesPolicy(ctx.configuration.secretScopes));
    return {
      secrets,
      httpRoutes: () => secretsRoutes(secrets),
      grpcMethods: () => secretMethods(secrets),
    };
  },
};
