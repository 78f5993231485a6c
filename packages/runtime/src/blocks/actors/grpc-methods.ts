/**
 * The actor RPCs of `dapr.proto.runtime.v1.Dapr` (dapr `pkg/api/grpc/grpc.go`,
 * `pkg/api/universal/actors.go`) over an {@link ActorsBlock}.
 */
import type * as grpc from '@grpc/grpc-js';
import { ApiError, GrpcCode } from '../../errors/api-error.js';
import { LOOKUP_NO_ADDRESS } from './actor-errors.js';
import type { ActorsBlock, ReminderView } from './actors-block.js';
import type { ActorStateOperation } from './actor-state.js';

type StringMap = Record<string, string>;
type Handler = (request: never, call: grpc.ServerUnaryCall<unknown, unknown>) => Promise<unknown>;

interface Target {
  actor_type: string;
  actor_id: string;
}

/** `google.protobuf.BytesValue` in an `Any`, as daprd wraps reminder data. */
function bytesValueAny(json: string): { type_url: string; value: Buffer } {
  const data = Buffer.from(json);
  const len: number[] = [];
  let n = data.length;
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    len.push(byte);
  } while (n);
  return { type_url: 'type.googleapis.com/google.protobuf.BytesValue', value: Buffer.concat([Buffer.from([0x0a, ...len]), data]) };
}

/**
 * Request `data` bytes as daprd keeps them for timers and reminders: `json.Marshal([]byte)`, that is a
 * JSON string of their base64; none when empty.
 */
function grpcData(data: Buffer | undefined): string | undefined {
  return data && data.length > 0 ? JSON.stringify(data.toString('base64')) : undefined;
}

/** A proto3 `optional` string: with oneofs on, a set field names itself in `_<field>`; undefined when unset. */
function optionalString(req: Record<string, unknown>, field: string): string | undefined {
  const value = req[field];
  return req[`_${field}`] === field && typeof value === 'string' ? value : undefined;
}

/** `GetActorReminderResponse` / `ActorReminder` (same field numbers and names). */
function reminderMessage(r: ReminderView): Record<string, unknown> {
  return {
    actor_type: r.actorType,
    actor_id: r.actorId,
    ...(r.dueTime !== undefined ? { due_time: r.dueTime } : {}),
    ...(r.period !== undefined ? { period: r.period } : {}),
    ...(r.ttl !== undefined ? { ttl: r.ttl } : {}),
    ...(r.data !== undefined ? { data: bytesValueAny(r.data) } : {}),
  };
}

/** The handlers, keyed by RPC name. */
export function actorGrpcMethods(actors: ActorsBlock): Record<string, Handler> {
  const methods = {
    InvokeActor: async (req: Target & { method: string; data?: Buffer; metadata?: StringMap }) => {
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.metadata ?? {})) headers[k.toLowerCase()] = v;
      try {
        const answer = await actors.invoke(req.actor_type, req.actor_id, req.method, req.data ?? Buffer.alloc(0), headers);
        return { data: answer.body };
      } catch (err) {
        // daprd answers bad names over gRPC with a plain InvalidArgument status.
        if (err instanceof ApiError && err.code === 'ERR_BAD_REQUEST') throw new ApiError('ERR_BAD_REQUEST', 400, GrpcCode.INVALID_ARGUMENT, err.message.replace(/^invalid request: /, ''));
        // daprd passes a failed lookup's own status on gRPC, without the ERR_ACTOR_INVOKE_METHOD wrapping.
        if (err instanceof ApiError && err.message.endsWith(LOOKUP_NO_ADDRESS)) throw new ApiError(err.code, err.httpStatus, err.grpcCode, LOOKUP_NO_ADDRESS);
        throw err;
      }
    },
    GetActorState: async (req: Target & { key: string }) => {
      const value = await actors.getState(req.actor_type, req.actor_id, req.key);
      return { data: value?.data ?? Buffer.alloc(0), metadata: value?.metadata ?? {} };
    },
    ExecuteActorStateTransaction: async (req: Target & { operations: { operationType: string; key: string; value?: { value?: Buffer } | null; metadata?: StringMap }[] }) => {
      const ops: ActorStateOperation[] = req.operations.map((op) => {
        if (op.operationType === 'upsert') {
          const metadata = op.metadata && Object.keys(op.metadata).length > 0 ? op.metadata : undefined;
          return { operation: 'upsert', key: op.key, value: op.value?.value ?? Buffer.alloc(0), ...(metadata ? { metadata } : {}) };
        }
        if (op.operationType === 'delete') return { operation: 'delete', key: op.key };
        throw new ApiError('ERR_NOT_SUPPORTED_STATE_OPERATION', 500, GrpcCode.UNIMPLEMENTED, `operation type ${op.operationType} not supported`);
      });
      await actors.transact(req.actor_type, req.actor_id, ops);
      return {};
    },
    RegisterActorTimer: async (req: Target & { name: string; due_time: string; period: string; callback: string; data?: Buffer; ttl: string }) => {
      actors.createTimer({
        actorType: req.actor_type,
        actorId: req.actor_id,
        name: req.name,
        dueTime: req.due_time,
        period: req.period,
        ttl: req.ttl,
        callback: req.callback,
        data: grpcData(req.data),
      });
      return {};
    },
    UnregisterActorTimer: async (req: Target & { name: string }) => {
      actors.deleteTimer(req.actor_type, req.actor_id, req.name);
      return {};
    },
    RegisterActorReminder: async (req: Target & { name: string; due_time: string; period: string; data?: Buffer; ttl: string; overwrite?: boolean | null; _overwrite?: string }) => {
      // proto3 `optional`: with oneofs on, a set field names itself in `_overwrite`.
      const overwrite = req._overwrite === 'overwrite' && typeof req.overwrite === 'boolean' ? req.overwrite : undefined;
      await actors.createReminder({
        actorType: req.actor_type,
        actorId: req.actor_id,
        name: req.name,
        dueTime: req.due_time,
        period: req.period,
        ttl: req.ttl,
        data: grpcData(req.data),
        ...(overwrite !== undefined ? { overwrite } : {}),
      });
      return {};
    },
    UnregisterActorReminder: async (req: Target & { name: string }) => {
      await actors.deleteReminder(req.actor_type, req.actor_id, req.name);
      return {};
    },
    GetActorReminder: async (req: Target & { name: string }) => reminderMessage(await actors.getReminder(req.actor_type, req.actor_id, req.name)),
    // daprd 1.17+ (the @dapr/dapr protos declare them; daprd 1.16 answers Unimplemented).
    ListActorReminders: async (req: { actor_type: string; actor_id?: string | null; _actor_id?: string }) => {
      const list = await actors.listReminders(req.actor_type, optionalString(req, 'actor_id'));
      return { reminders: list.map((r) => ({ name: r.name, reminder: reminderMessage(r) })) };
    },
    UnregisterActorRemindersByType: async (req: { actor_type: string; actor_id?: string | null; _actor_id?: string }) => {
      await actors.deleteReminders(req.actor_type, optionalString(req, 'actor_id'));
      return {};
    },
  };
  return methods as unknown as Record<string, Handler>;
}

