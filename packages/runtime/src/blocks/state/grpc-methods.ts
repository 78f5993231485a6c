/** The state RPCs of the Dapr gRPC service (`GetState` … `QueryStateAlpha1`) over the {@link StateBlock}. */
import type * as grpc from '@grpc/grpc-js';
import type { DaprGrpcMethods } from '../../api/grpc/dapr-service.js';
import type { StateWriteOptions } from '../../components/state/store.js';
import { commonErrors } from '../../errors/index.js';
import type { SaveItem, StateBlock, TransactionRequestOperation } from './state-block.js';

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

/** The state RPCs. */
export function stateMethods(state: StateBlock): DaprGrpcMethods {
  const empty = {};
  return {
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
  } as Record<string, (request: never, call: grpc.ServerUnaryCall<unknown, unknown>) => Promise<unknown>>;
}
