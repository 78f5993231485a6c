/**
 * The configuration RPCs of the Dapr gRPC service: `GetConfiguration`, the server stream
 * `SubscribeConfiguration` (first message: the subscription id with no items, as daprd sends it and
 * the SDK's `stop()` needs; then the current values; then every change) and the deprecated
 * `UnsubscribeConfiguration`, which ends the stream of that id. The `…Alpha1` names behave the same.
 * Closing the stream from the client side unsubscribes.
 */
import type * as grpc from '@grpc/grpc-js';
import type { GrpcApiServer } from '../../api/grpc/server.js';
import { toGrpcError } from '../../api/grpc/server.js';
import type { ConfigurationItem } from '../../components/configuration/store.js';
import { commonErrors } from '../../errors/index.js';
import type { Logger } from '../../logging/logger.js';
import type { ConfigurationBlock, ConfigurationItems } from './configuration-block.js';
import { configurationErrors } from './configuration-errors.js';

interface ProtoConfigurationRequest {
  store_name?: string;
  keys?: string[];
  metadata?: Record<string, string>;
}

const protoItem = (item: ConfigurationItem) => ({ value: item.value, version: item.version, metadata: item.metadata });
const protoItems = (items: ConfigurationItems) => Object.fromEntries(Object.entries(items).map(([k, v]) => [k, protoItem(v)]));
const queryOf = (req: ProtoConfigurationRequest) => ({
  storeName: req.store_name ?? '',
  // The SDK drops empty keys itself; daprd would look them up and find nothing.
  keys: (req.keys ?? []).filter((k) => k !== ''),
  metadata: req.metadata ?? {},
});

/** The unary configuration RPCs. */
export function configurationUnaryMethods(configuration: ConfigurationBlock): Record<string, (request: never) => Promise<unknown>> {
  const get = async (req: ProtoConfigurationRequest) => ({ items: protoItems(await configuration.get(queryOf(req))) });
  const unsubscribe = async (req: { store_name?: string; id?: string }) => {
    const id = req.id ?? '';
    if (await configuration.unsubscribe(id)) return { ok: true, message: '' };
    return { ok: false, message: configurationErrors.unsubscribeMessage(id, 'subscription does not exist') };
  };
  return { GetConfiguration: get, GetConfigurationAlpha1: get, UnsubscribeConfiguration: unsubscribe, UnsubscribeConfigurationAlpha1: unsubscribe };
}

/** The streaming RPCs, to pass to `addUnaryService`'s `streaming` argument. */
export function configurationStreamingMethods(server: GrpcApiServer, configuration: ConfigurationBlock, logger: Logger): grpc.UntypedServiceImplementation {
  const subscribe = (method: string) => (call: grpc.ServerWritableStream<ProtoConfigurationRequest, unknown>) => {
    // grpc-js turns an 'error' event into the call's status; destroy() would skip sending it.
    const fail = (err: unknown) => {
      if (!call.destroyed && !call.writableEnded) call.emit('error', toGrpcError(err, logger));
    };
    if (!server.authorized(call)) return fail(commonErrors.invalidToken());
    if (!server.allowed(method)) return fail(commonErrors.apiNotAllowed(`/dapr.proto.runtime.v1.Dapr/${method}`));
    const open = () => !call.destroyed && !call.writableEnded && !call.cancelled;
    let id: string | undefined;
    let ended = false;
    const stop = () => {
      if (ended) return;
      ended = true;
      if (id) void configuration.unsubscribe(id);
    };
    call.on('cancelled', stop);
    call.on('close', stop);
    call.on('error', stop);
    configuration
      .subscribe(
        queryOf(call.request),
        async (update) => {
          if (open()) call.write({ id: update.id, items: protoItems(update.items) });
        },
        {
          onStart: (subscriptionId) => {
            id = subscriptionId;
            if (open()) call.write({ id: subscriptionId, items: {} });
          },
          onEnd: () => {
            ended = true;
            if (open()) call.end();
          },
        },
      )
      .then(
        (subscriptionId) => {
          // The client went away while the subscription was starting.
          if (ended || !open()) void configuration.unsubscribe(subscriptionId);
        },
        fail,
      );
  };
  return { SubscribeConfiguration: subscribe('SubscribeConfiguration'), SubscribeConfigurationAlpha1: subscribe('SubscribeConfigurationAlpha1') };
}
