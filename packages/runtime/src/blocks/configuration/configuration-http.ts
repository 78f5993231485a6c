/**
 * HTTP routes of the configuration API (`/v1.0/configuration/...` and the `v1.0-alpha1` paths):
 * `GET {store}?key=…` (200 with the items map, 204 when none), `GET {store}/subscribe?key=…` (`{id}`;
 * the app then gets `POST /configuration/{store}/{key}` with `{id, items}` for each changed key, as
 * daprd sends it) and `GET {store}/{id}/unsubscribe` (`{ok: true}`, or 500 with `{message}`).
 */
import type { AppChannel } from '../../appchannel/app-channel.js';
import type { PolicyRunner } from '../../resiliency/policy.js';
import type { Resiliency } from '../../resiliency/resiliency.js';
import type { HttpRequestContext, HttpRoute } from '../../api/http/types.js';
import { jsonReply, metadataFromQuery, noContent } from '../../api/http/types.js';
import type { ConfigurationBlock, ConfigurationQuery, ConfigurationSink } from './configuration-block.js';
import { configurationErrors } from './configuration-errors.js';
import { itemsJson } from './configuration-json.js';

function query(req: HttpRequestContext): ConfigurationQuery {
  return { storeName: req.params['storeName'] ?? '', keys: req.query.getAll('key'), metadata: metadataFromQuery(req.query) };
}

/**
 * Delivers an update to an HTTP app the way daprd does: one POST per changed key, each carrying the
 * whole update; the app must answer 200.
 */
export function appSink(storeName: string, channel: () => AppChannel | undefined, policy: () => PolicyRunner | undefined): ConfigurationSink {
  return async ({ id, items }) => {
    const app = channel();
    if (!app) throw new Error(`app channel is nil. unable to send configuration update from ${storeName}`);
    const body = `${JSON.stringify({ id, items: itemsJson(items) })}\n`;
    for (const key of Object.keys(items)) {
      const send = async ({ signal }: { signal?: AbortSignal }) => {
        const res = await app.call({
          method: 'POST',
          path: `/configuration/${storeName}/${key}`,
          headers: { 'content-type': 'application/json' },
          body,
          ...(signal ? { signal } : {}),
        });
        if (res.status !== 200) throw new Error(`error sending configuration item to application, status ${res.status}`);
      };
      // The store's inbound policy (retries, timeout, breaker), as daprd applies it to these calls.
      const runner = policy();
      await (runner && !runner.isNoop ? runner.execute(send) : send({}));
    }
  };
}

/**
 * The configuration routes over a {@link ConfigurationBlock}; `channel` is the app channel when there
 * is one, `resiliency` gives each store's inbound policy for deliveries to the app.
 */
export function configurationRoutes(configuration: ConfigurationBlock, channel: () => AppChannel | undefined, resiliency: () => Resiliency | undefined = () => undefined): HttpRoute[] {
  const routes: HttpRoute[] = [];
  for (const version of ['v1.0', 'v1.0-alpha1']) {
    routes.push(
      {
        methods: ['GET'],
        path: `/${version}/configuration/:storeName`,
        group: 'configuration',
        name: 'GetConfiguration',
        handler: async (req) => {
          const items = await configuration.get(query(req));
          return Object.keys(items).length === 0 ? noContent() : jsonReply(200, itemsJson(items));
        },
      },
      {
        methods: ['GET'],
        path: `/${version}/configuration/:storeName/subscribe`,
        group: 'configuration',
        name: 'SubscribeConfiguration',
        handler: async (req) => {
          const q = query(req);
          configuration.checkStore(q.storeName);
          if (!channel()) throw configurationErrors.appChannelNil();
          const policy = () => resiliency()?.policyFor({ kind: 'component', name: q.storeName, direction: 'inbound', componentKind: 'configuration' });
          const id = await configuration.subscribe(q, appSink(q.storeName, channel, policy));
          return jsonReply(200, { id });
        },
      },
      {
        methods: ['GET'],
        path: `/${version}/configuration/:storeName/:subscribeId/unsubscribe`,
        group: 'configuration',
        name: 'UnsubscribeConfiguration',
        handler: async (req) => {
          configuration.checkStore(req.params['storeName'] ?? '');
          const id = req.params['subscribeId'] ?? '';
          if (await configuration.unsubscribe(id)) return jsonReply(200, { ok: true });
          // daprd's `ok` is `omitempty`: a failure carries the message only.
          return jsonReply(500, { message: configurationErrors.unsubscribeMessage(id, `subscription with id ${id} does not exist`) });
        },
      },
    );
  }
  return routes;
}
