/** The gRPC API (`workflow.v1.WorkflowService`) over the execution service. */
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { z } from 'zod';
import { ConflictError, NotFoundError, PreconditionError } from '../errors.js';
import type { ExecutionService } from '../executions/service.js';
import type { Execution, ExecutionEvent } from '../executions/store.js';
import { loadWorkflowService } from './proto.js';
import type { ExecutionUpdate, WorkflowStatus } from './proto.js';

const Uuid = z.uuid();

/** Starts the gRPC server; resolves with it and the port it listens on. */
export async function startGrpcServer(executions: ExecutionService, host: string, port: number, logger: Logger): Promise<{ server: grpc.Server; port: number }> {
  const server = new grpc.Server();
  const service = loadWorkflowService();

  const stream = async (call: grpc.ServerWritableStream<unknown, ExecutionUpdate>, executionId: string, workflowId: string) => {
    const abort = new AbortController();
    call.on('cancelled', () => abort.abort());
    for await (const event of executions.watch(executionId, abort.signal)) {
      if (!call.write(toUpdate(event, workflowId))) await new Promise((r) => call.once('drain', r));
    }
    call.end();
  };

  const implementation: grpc.UntypedServiceImplementation = {
    ExecuteWorkflow: (call: grpc.ServerWritableStream<{ workflow_id: string; request_id: string }, ExecutionUpdate>) => {
      const { workflow_id: workflowId, request_id: requestId } = call.request;
      void (async () => {
        if (!Uuid.safeParse(workflowId).success) throw new InvalidArgument(`workflow_id must be a UUID, got "${workflowId}"`);
        const { executionId } = await executions.start(workflowId, requestId || undefined);
        call.sendMetadata(new grpc.Metadata());
        await stream(call, executionId, workflowId);
      })().catch((err: unknown) => fail(call, err, logger));
    },
    WatchExecution: (call: grpc.ServerWritableStream<{ execution_id: string }, ExecutionUpdate>) => {
      const { execution_id: executionId } = call.request;
      void (async () => {
        if (!Uuid.safeParse(executionId).success) throw new InvalidArgument(`execution_id must be a UUID, got "${executionId}"`);
        const execution = await executions.status(executionId);
        await stream(call, executionId, execution.workflow_id);
      })().catch((err: unknown) => fail(call, err, logger));
    },
    GetWorkflowStatus: (call: grpc.ServerUnaryCall<{ execution_id: string }, WorkflowStatus>, callback: grpc.sendUnaryData<WorkflowStatus>) => {
      const { execution_id: executionId } = call.request;
      void (async () => {
        if (!Uuid.safeParse(executionId).success) throw new InvalidArgument(`execution_id must be a UUID, got "${executionId}"`);
        callback(null, toStatus(await executions.status(executionId)));
      })().catch((err: unknown) => callback(toServiceError(err, logger)));
    },
  };
  server.addService(service.service, implementation);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
  );
  return { server, port: bound };
}

class InvalidArgument extends Error {}

function toServiceError(err: unknown, logger: Logger): Partial<grpc.ServiceError> {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof InvalidArgument) return { code: grpc.status.INVALID_ARGUMENT, details: message };
  if (err instanceof NotFoundError) return { code: grpc.status.NOT_FOUND, details: message };
  if (err instanceof PreconditionError) return { code: grpc.status.FAILED_PRECONDITION, details: message };
  if (err instanceof ConflictError) return { code: grpc.status.ALREADY_EXISTS, details: message };
  logger.error({ err }, 'gRPC call failed');
  return { code: grpc.status.INTERNAL, details: `internal error: ${message}` };
}

function fail(call: grpc.ServerWritableStream<unknown, ExecutionUpdate>, err: unknown, logger: Logger): void {
  if (call.cancelled) return;
  // grpc-js turns an 'error' emitted on a server stream into the call's status.
  call.emit('error', toServiceError(err, logger));
}

function toUpdate(event: ExecutionEvent, workflowId: string): ExecutionUpdate {
  return {
    execution_id: event.execution_id,
    workflow_id: workflowId,
    task_id: event.task_id ?? '',
    task_name: event.task_name ?? '',
    status: event.status,
    message: event.message ?? '',
    result_json: event.result === null || event.result === undefined ? '' : JSON.stringify(event.result),
    timestamp: event.at,
    sequence_number: String(event.id),
  };
}

function toStatus(e: Execution): WorkflowStatus {
  return {
    execution_id: e.id,
    workflow_id: e.workflow_id,
    workflow_name: e.workflow_name,
    status: e.status,
    error: e.error ?? '',
    created_at: e.created_at,
    started_at: e.started_at ?? '',
    finished_at: e.finished_at ?? '',
    tasks: e.tasks.map((t) => ({
      task_id: t.task_id,
      name: t.name,
      sequence: t.sequence,
      execution_type: t.execution_type,
      kind: t.kind,
      status: t.status,
      result_json: t.result === null || t.result === undefined ? '' : JSON.stringify(t.result),
      error: t.error ?? '',
      started_at: t.started_at ?? '',
      finished_at: t.finished_at ?? '',
      attempts: t.attempts,
    })),
  };
}
