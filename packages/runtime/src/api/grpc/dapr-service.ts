/**
 * `dapr.proto.runtime.v1.Dapr` over the same transport-neutral blocks as the HTTP API. This issue
 * covers metadata, state, secrets and shutdown; other RPCs answer UNIMPLEMENTED until their blocks
 * land, which grpc-js does for any method left out of the implementation.
 */
import type * as grpc from '@grpc/grpc-js';
import type { MetadataBlock } from '../../blocks/metadata.js';
import type { SecretsBlock } from '../../blocks/secrets.js';
import type { PubSubPublisher } from '../../blocks/pubsub/publish.js';
import type { OutputBindings } from '../../blocks/bindings/output.js';
import type { JobsBlock } from '../../blocks/jobs.js';
import { jobMethods } from './jobs-methods.js';
import type { SaveItem, StateBlock, TransactionRequestOperation } from '../../blocks/state.js';
import type { StateWriteOptions } from '../../components/state/store.js';
import { commonErrors } from '../../errors/index.js';
import type { HealthState } from '../../sidecar/health.js';
import { daprService } from './protos.js';
import type { GrpcApiServer } from './server.js';

/** What the Dapr gRPC service needs. */
export interface DaprGrpcDeps {
  appId: string;
  health: HealthState;
  metadata: MetadataBlock;
  state: StateBlock;
  secrets: SecretsBlock;
  /** Absent until the pub/sub block is wired: the pub/sub RPCs then answer UNIMPLEMENTED. */
  publisher?: PubSubPublisher;
  /** Output bindings; `InvokeBinding` answers UNIMPLEMENTED when absent. */
  bindings?: OutputBindings;
  /** The Jobs API; the job RPCs answer UNIMPLEMENTED when absent. */
  jobs?: JobsBlock;
  /** The actor RPCs by name (`blocks/actors`); UNIMPLEMENTED when absent. */
  actors?: Record<string, (request: never, call: grpc.ServerUnaryCall<unknown, unknown>) => Promise<unknown>>;
  shutdown(): void;
  /** `InvokeService` (service invocation); UNIMPLEMENTED when absent. */
  invokeService?: (request: never, call: grpc.ServerUnaryCall<unknown, unknown>) => Promise<unknown>;
}

interface ProtoBulkEntry {
  entry_id: string;
  event: Buffer;
  content_type: string;
  metadata?: StringMap;
}

type StringMap = Record<string, string>;

interface ProtoStateOptions {
  concurrency?: string;
  consistency?: string;
}

interface ProtoStateItem {
  key: string;
  value: Buffer;
  etag?: { value: string } | null;
  metadata?: StringMap;
  options?: ProtoStateOptions | null;
}

/** Maps proto enums (`CONCURRENCY_FIRST_WRITE`) to the API's option strings. */
function decodeOptions(options: ProtoStateOptions | null | undefined): StateWriteOptions | undefined {
  if (!options) return undefined;
  const concurrency =
    options.concurrency === 'CONCURRENCY_FIRST_WRITE' ? 'first-write' : options.concurrency === 'CONCURRENCY_LAST_WRITE' ? 'last-write' : undefined;
  const consistency =
    options.consistency === 'CONSISTENCY_STRONG' ? 'strong' : options.consistency === 'CONSISTENCY_EVENTUAL' ? 'eventual' : undefined;
  if (!concurrency && !consistency) return undefined;
  return { ...(concurrency ? { concurrency } : {}), ...(consistency ? { consistency } : {}) };
}

function decodeConsistency(consistency: string | undefined): StringMap {
  if (consistency === 'CONSISTENCY_STRONG') return { consistency: 'strong' };
  if (consistency === 'CONSISTENCY_EVENTUAL') return { consistency: 'eventual' };
  return {};
}

function decodeItem(item: ProtoStateItem): SaveItem {
  const options = decodeOptions(item.options);
  const metadata = item.metadata ?? {};
  return {
    key: item.key,
    value: item.value ?? Buffer.alloc(0),
    ...(item.etag?.value ? { etag: item.etag.value } : {}),
    ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
    ...(options ? { options } : {}),
  };
}

/** Registers the Dapr service on the gRPC server. */
export function registerDaprGrpcService(server: GrpcApiServer, deps: DaprGrpcDeps): void {
  const { state, secrets, metadata } = deps;
  const empty = {};
  server.addUnaryService(daprService('dapr.proto.runtime.v1.Dapr'), {
    ...(deps.invokeService ? { InvokeService: deps.invokeService } : {}),
    GetMetadata: async () => {
      const m = metadata.get();
      return {
        id: m.id,
        runtime_version: m.runtimeVersion,
        enabled_features: m.enabledFeatures,
        active_actors_count: m.actors,
        ...(m.actorRuntime
          ? {
              actor_runtime: {
                runtime_status: m.actorRuntime.runtimeStatus,
                active_actors: m.actorRuntime.activeActors,
                host_ready: m.actorRuntime.hostReady,
                placement: m.actorRuntime.placement,
              },
            }
          : {}),
        registered_components: m.components,
        extended_metadata: m.extended,
        subscriptions: (m.subscriptions as { pubsubname: string; topic: string; metadata: StringMap; rules: unknown[]; deadLetterTopic: string; type: string }[]).map((sub) => ({
          pubsub_name: sub.pubsubname,
          topic: sub.topic,
          metadata: sub.metadata,
          rules: { rules: sub.rules },
          dead_letter_topic: sub.deadLetterTopic,
          type: sub.type,
        })),
        http_endpoints: m.httpEndpoints,
        // Dapr's proto carries the worker count only; the stuck count is HTTP-only.
        ...(m.workflows ? { workflows: { connected_workers: m.workflows.connectedWorkers } } : {}),
        app_connection_properties: {
          port: m.appConnectionProperties.port ?? 0,
          protocol: m.appConnectionProperties.protocol,
          channel_address: m.appConnectionProperties.channelAddress,
        },
      };
    },
    SetMetadata: async (req: { key: string; value: string }) => {
      metadata.set(req.key, req.value);
      return empty;
    },
    Shutdown: async () => {
      setImmediate(() => deps.shutdown());
      return empty;
    },
    GetState: async (req: { store_name: string; key: string; consistency?: string; metadata?: StringMap }) => {
      const value = await state.get(req.store_name, req.key, { ...req.metadata, ...decodeConsistency(req.consistency) });
      return value ? { data: value.data, etag: value.etag, metadata: value.metadata } : { data: Buffer.alloc(0), etag: '', metadata: {} };
    },
    GetBulkState: async (req: { store_name: string; keys: string[]; parallelism: number; metadata?: StringMap }) => {
      const entries = await state.bulkGet(req.store_name, req.keys, req.parallelism > 0 ? req.parallelism : undefined);
      return {
        items: entries.map((e) => ({
          key: e.key,
          data: e.data ?? Buffer.alloc(0),
          etag: e.etag ?? '',
          error: e.error ?? '',
          metadata: e.metadata ?? {},
        })),
      };
    },
    SaveState: async (req: { store_name: string; states: ProtoStateItem[] }) => {
      await state.save(req.store_name, req.states.map(decodeItem));
      return empty;
    },
    DeleteState: async (req: { store_name: string; key: string; etag?: { value: string } | null; options?: ProtoStateOptions | null }) => {
      await state.delete(req.store_name, req.key, req.etag?.value || undefined, decodeOptions(req.options));
      return empty;
    },
    DeleteBulkState: async (req: { store_name: string; states: ProtoStateItem[] }) => {
      const operations: TransactionRequestOperation[] = req.states.map((s) => ({ operation: 'delete', request: decodeItem(s) }));
      for (const op of operations) await state.delete(req.store_name, op.request.key, op.request.etag, op.request.options);
      return empty;
    },
    ExecuteStateTransaction: async (req: {
      storeName: string;
      operations: { operationType: string; request: ProtoStateItem | null }[];
      metadata?: StringMap;
    }) => {
      const operations = req.operations.map((op): TransactionRequestOperation => {
        if (!op.request) throw commonErrors.malformedRequest('every transaction operation needs a request');
        const item = decodeItem(op.request);
        return {
          operation: op.operationType,
          request: { ...item, ...(op.operationType === 'upsert' ? {} : { value: undefined }) },
        };
      });
      await state.transact(req.storeName, operations, req.metadata ?? {});
      return empty;
    },
    QueryStateAlpha1: async (req: { store_name: string; query: string; metadata?: StringMap }) => {
      let query: unknown;
      try {
        query = JSON.parse(req.query);
      } catch (err) {
        throw commonErrors.malformedRequest(`failed to parse query as JSON: ${(err as Error).message}`);
      }
      const reply = await state.query(req.store_name, query);
      return {
        results: reply.results.map((r) => ({ key: r.key, data: r.data, etag: r.etag, error: '' })),
        token: reply.token ?? '',
        metadata: {},
      };
    },
    ...(deps.publisher ? pubsubMethods(deps.publisher) : {}),
    ...(deps.bindings ? bindingMethods(deps.bindings) : {}),
    ...(deps.jobs ? jobMethods(deps.jobs) : {}),
    ...(deps.actors ?? {}),
    GetSecret: async (req: { store_name: string; key: string; metadata?: StringMap }) => ({
      data: await secrets.get(req.store_name, req.key, req.metadata ?? {}),
    }),
    GetBulkSecret: async (req: { store_name: string; metadata?: StringMap }) => {
      const all = await secrets.bulk(req.store_name, req.metadata ?? {});
      return { data: Object.fromEntries(Object.entries(all).map(([name, secret]) => [name, { secrets: secret }])) };
    },
  } as Record<string, (request: never, call: grpc.ServerUnaryCall<unknown, unknown>) => Promise<unknown>>);
}

/** The call's trace context (the API span's, see `observability/grpc-spans.ts`) as W3C headers. */
function traceOf(call: grpc.ServerUnaryCall<unknown, unknown> | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['traceparent', 'tracestate']) {
    const [value] = call?.metadata.get(name) ?? [];
    if (typeof value === 'string' && value !== '') out[name] = value;
  }
  return out;
}

/** `PublishEvent` and `BulkPublishEventAlpha1` (and the stable `BulkPublishEvent`) over the publisher. */
function pubsubMethods(publisher: PubSubPublisher): Record<string, (request: never, call: grpc.ServerUnaryCall<unknown, unknown>) => Promise<unknown>> {
  const bulk = async (req: { pubsub_name: string; topic: string; entries: ProtoBulkEntry[]; metadata?: StringMap }, call?: grpc.ServerUnaryCall<unknown, unknown>) => {
    const failed = await publisher.bulkPublish(
      req.pubsub_name,
      req.topic,
      req.entries.map((e) => ({ entryId: e.entry_id, data: e.event ?? Buffer.alloc(0), contentType: e.content_type || 'text/plain', metadata: e.metadata ?? {} })),
      req.metadata ?? {},
      traceOf(call),
    );
    return { failedEntries: failed.map((f) => ({ entry_id: f.entryId, error: f.error })) };
  };
  return {
    PublishEvent: async (req: { pubsub_name: string; topic: string; data: Buffer; data_content_type: string; metadata?: StringMap }, call?: grpc.ServerUnaryCall<unknown, unknown>) => {
      await publisher.publish({
        trace: traceOf(call),
        pubsubName: req.pubsub_name,
        topic: req.topic,
        data: req.data ?? Buffer.alloc(0),
        metadata: req.metadata ?? {},
        ...(req.data_content_type ? { contentType: req.data_content_type } : {}),
      });
      return {};
    },
    BulkPublishEventAlpha1: bulk,
    BulkPublishEvent: bulk,
  };
}

/** `InvokeBinding` over the output bindings block (data passes through as bytes, unlike HTTP). */
function bindingMethods(bindings: OutputBindings): Record<string, (request: never, call: grpc.ServerUnaryCall<unknown, unknown>) => Promise<unknown>> {
  return {
    InvokeBinding: async (req: { name: string; data?: Buffer; metadata?: StringMap; operation: string }, call?: grpc.ServerUnaryCall<unknown, unknown>) => {
      const response = await bindings.invoke(req.name, {
        operation: req.operation ?? '',
        data: req.data ?? Buffer.alloc(0),
        // Trace context travels to the component in metadata, as over HTTP.
        metadata: { ...traceOf(call), ...(req.metadata ?? {}) },
      });
      return { data: response?.data ?? Buffer.alloc(0), metadata: response?.metadata ?? {} };
    },
  };
}
