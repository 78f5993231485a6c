/** HTTP routes of health, metadata and shutdown. */
import type { MetadataBlock } from './metadata.js';
import { commonErrors } from '../../errors/index.js';
import type { HealthState } from '../../sidecar/health.js';
import type { HttpRoute } from '../../api/http/types.js';
import { jsonReply, noContent } from '../../api/http/types.js';

/** What the core routes need. */
export interface CoreRouteDeps {
  appId: string;
  health: HealthState;
  metadata: MetadataBlock;
  /** Starts a graceful shutdown after the reply is sent. */
  shutdown(): void;
}

/** Health, metadata and shutdown routes. */
export function coreRoutes(deps: CoreRouteDeps): HttpRoute[] {
  return [
    {
      methods: ['GET'],
      path: '/v1.0/healthz',
      group: 'healthz',
      name: 'Healthz',
      public: true,
      handler: (req) => {
        const appId = req.query.get('appid');
        if (appId !== null && appId !== deps.appId) throw commonErrors.healthAppIdMismatch();
        if (!deps.health.ready()) throw commonErrors.healthNotReady();
        return noContent();
      },
    },
    {
      methods: ['GET'],
      path: '/v1.0/healthz/outbound',
      group: 'healthz',
      name: 'HealthzOutbound',
      public: true,
      handler: () => {
        if (!deps.health.outboundReady()) throw commonErrors.outboundHealthNotReady();
        return noContent();
      },
    },
    {
      methods: ['GET'],
      path: '/v1.0/metadata',
      group: 'metadata',
      name: 'GetMetadata',
      handler: () => jsonReply(200, deps.metadata.get()),
    },
    {
      methods: ['PUT'],
      path: '/v1.0/metadata/:key',
      group: 'metadata',
      name: 'SetMetadata',
      handler: (req) => {
        deps.metadata.set(req.params['key'] ?? '', req.body.toString('utf8'));
        return noContent();
      },
    },
    {
      methods: ['POST'],
      path: '/v1.0/shutdown',
      group: 'shutdown',
      name: 'Shutdown',
      handler: () => {
        setImmediate(() => deps.shutdown());
        return noContent();
      },
    },
  ];
}
