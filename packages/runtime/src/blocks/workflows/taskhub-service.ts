/**
 * The durabletask `TaskHubSidecarService` that `@dapr/dapr` workflows and `@dapr/durabletask-js` use:
 * worker RPCs (Hello, GetWorkItems, Complete*Task) and client RPCs, over the workflow engine. Message
 * semantics follow dapr-sdk-contract.md §3; entity and task-hub RPCs are left out (UNIMPLEMENTED).
 */
import type * as grpc from '@grpc/grpc-js';
import { commonErrors, workflowErrors } from '../../errors/index.js';
import type { Logger } from '../../logging/logger.js';
import type { InstanceFilter } from '../../workflow/backend.js';
import type { WorkflowEngine } from '../../workflow/engine.js';
import { WorkItemTooLargeError } from '../../workflow/dispatcher.js';
import { fromTimestamp, sv, svValue, toTimestamp } from '../../workflow/history.js';
import { statusName } from '../../workflow/step.js';
import type { FailureDetails, InstanceRecord, OrchestratorAction, StringValue, Timestamp, TraceContextMessage, WorkflowStatus } from '../../workflow/types.js';
import { WORKFLOW_STATUSES, isTerminal } from '../../workflow/types.js';
import { validateInstanceId } from '../../workflow/instance-id.js';
import { encodeWorkItem } from './work-item-encoding.js';
import { lazyTaskHubService } from '../../api/grpc/protos.js';
import type { GrpcApiServer } from '../../api/grpc/server.js';
import { toGrpcError } from '../../api/grpc/server.js';

interface GetInstanceRequest {
  instanceId: string;
  getInputsAndOutputs: boolean;
}

/** The `OrchestrationState` message of an instance. */
export function orchestrationState(i: InstanceRecord, withPayloads: boolean): Record<string, unknown> {
  return {
    instanceId: i.instanceId,
    name: i.name,
    orchestrationStatus: `ORCHESTRATION_STATUS_${i.status}`,
    createdTimestamp: toTimestamp(i.createdAt),
    lastUpdatedTimestamp: toTimestamp(i.lastUpdatedAt),
    ...(i.scheduledStartAt ? { scheduledStartTimestamp: toTimestamp(i.scheduledStartAt) } : {}),
    ...(withPayloads ? { input: sv(i.input), output: sv(i.output) } : {}),
    customStatus: sv(i.customStatus),
    failureDetails: i.failure,
  };
}

function requireId(id: unknown): string {
  if (typeof id !== 'string' || id === '') throw workflowErrors.instanceIdMissing();
  return id;
}

function stateReply(i: InstanceRecord | undefined, withPayloads: boolean): Record<string, unknown> {
  return i ? { exists: true, orchestrationState: orchestrationState(i, withPayloads) } : { exists: false };
}

function toStatuses(values: (string | number)[] | undefined): WorkflowStatus[] | undefined {
  if (!values || values.length === 0) return undefined;
  return values.map(statusName).filter((s): s is WorkflowStatus => (WORKFLOW_STATUSES as readonly string[]).includes(s));
}

function optionalDate(ts: Timestamp | null | undefined): Date | undefined {
  return ts ? fromTimestamp(ts) : undefined;
}

/** Cancels the returned signal when the client goes away (for the long-polling Wait RPCs). */
function callSignal(call: grpc.ServerUnaryCall<unknown, unknown>): AbortSignal {
  const controller = new AbortController();
  // With a reason made once: `abort()` without one builds a DOMException (and its stack) per call,
  // and grpc-js emits 'cancelled' as a wait call closes, which a profile under load showed.
  call.on('cancelled', () => controller.abort(CALL_CANCELLED));
  return controller.signal;
}

/** The abort reason of a cancelled call (see {@link callSignal}). */
const CALL_CANCELLED = new Error('the gRPC call was cancelled');

/**
 * The trace a start request runs in: `CreateInstanceRequest.parentTraceContext` when the client sends
 * one (durabletask-go prefers it), otherwise the call's own span (`traceparent` metadata).
 */
function startTrace(given: TraceContextMessage | null | undefined, call: grpc.ServerUnaryCall<unknown, unknown>): { traceparent?: string; tracestate?: string } {
  if (given?.traceParent) return { traceparent: given.traceParent, ...(given.traceState?.value ? { tracestate: given.traceState.value } : {}) };
  const [traceparent] = call.metadata.get('traceparent');
  const [tracestate] = call.metadata.get('tracestate');
  return { ...(typeof traceparent === 'string' ? { traceparent } : {}), ...(typeof tracestate === 'string' ? { tracestate } : {}) };
}

/** The service definition, with `GetWorkItems` writing buffers that {@link encodeWorkItem} made as they are. */
function withPreEncodedWorkItems(definition: grpc.ServiceDefinition): grpc.ServiceDefinition {
  const getWorkItems = definition['GetWorkItems']!;
  const encode = getWorkItems.responseSerialize;
  return { ...definition, GetWorkItems: { ...getWorkItems, responseSerialize: (value: unknown) => (Buffer.isBuffer(value) ? value : encode(value)) } };
}

/** Registers `TaskHubSidecarService` on the gRPC server. */
export function registerTaskHubService(server: GrpcApiServer, engine: WorkflowEngine, logger: Logger): void {
  const getWorkItems = (call: grpc.ServerWritableStream<unknown, unknown>) => {
    if (!server.authorized(call)) {
      // grpc-js sends no status for destroy() on a server stream (the client would wait for ever):
      // an 'error' event is what ends the call with one.
      call.emit('error', toGrpcError(commonErrors.invalidToken(), logger));
      return;
    }
    const stream = engine.connect(
      (item) => {
        // Encoded here, once, so its size is known before it is written (the definition below
        // passes buffers through): a work item the worker cannot receive would end the stream.
        const bytes = encodeWorkItem(item);
        if (bytes.length > engine.maxWorkItemBytes) throw new WorkItemTooLargeError(bytes.length, engine.maxWorkItemBytes);
        if (call.destroyed || call.writableEnded) return true;
        // Write backpressure: false asks the engine to send nothing more here until 'drain'.
        const more = call.write(bytes);
        if (!more) call.once('drain', () => engine.resumeStream(stream));
        return more;
      },
      () => {
        if (!call.destroyed && !call.writableEnded) call.end();
      },
    );
    let gone = false;
    const end = () => {
      if (gone) return;
      gone = true;
      engine.disconnect(stream).catch((err: unknown) => logger.warn('releasing work of a closed worker stream failed', { error: String(err) }));
    };
    call.on('cancelled', end);
    call.on('close', end);
    call.on('error', end);
    call.on('finish', end);
  };

  server.addUnaryService(
    withPreEncodedWorkItems(lazyTaskHubService()),
    {
      Hello: async () => ({}),
      CompleteOrchestratorTask: async (req: { instanceId: string; actions?: OrchestratorAction[]; customStatus?: StringValue; completionToken?: string }) => {
        await engine.completeOrchestration(requireId(req.instanceId), { actions: req.actions ?? [], customStatus: req.customStatus }, req.completionToken || undefined);
        return {};
      },
      CompleteActivityTask: async (req: { instanceId: string; taskId: number; result?: StringValue; failureDetails?: FailureDetails | null; completionToken?: string }) => {
        await engine.completeActivity({
          completionToken: req.completionToken || undefined,
          instanceId: requireId(req.instanceId),
          taskId: req.taskId,
          result: svValue(req.result),
          failure: req.failureDetails ?? null,
        });
        return {};
      },
      StartInstance: async (
        req: { instanceId: string; name: string; input?: StringValue; scheduledStartTimestamp?: Timestamp | null; parentTraceContext?: TraceContextMessage | null },
        call,
      ) => {
        if (!req.name) throw workflowErrors.nameMissing();
        if (req.instanceId) validateInstanceId(req.instanceId);
        const scheduledStartAt = optionalDate(req.scheduledStartTimestamp);
        const instanceId = await engine.start({
          trace: startTrace(req.parentTraceContext, call),
          ...(req.instanceId ? { instanceId: req.instanceId } : {}),
          name: req.name,
          input: svValue(req.input),
          ...(scheduledStartAt && scheduledStartAt.getTime() > Date.now() ? { scheduledStartAt } : {}),
        });
        return { instanceId };
      },
      GetInstance: async (req: GetInstanceRequest) => stateReply(await engine.get(requireId(req.instanceId)), req.getInputsAndOutputs),
      WaitForInstanceStart: async (req: GetInstanceRequest, call) =>
        stateReply(await engine.waitFor(requireId(req.instanceId), (i) => i.status !== 'PENDING', callSignal(call)), req.getInputsAndOutputs),
      WaitForInstanceCompletion: async (req: GetInstanceRequest, call) =>
        stateReply(await engine.waitFor(requireId(req.instanceId), (i) => isTerminal(i.status), callSignal(call)), req.getInputsAndOutputs),
      RaiseEvent: async (req: { instanceId: string; name: string; input?: StringValue }) => {
        const id = requireId(req.instanceId);
        if (!req.name) throw workflowErrors.eventNameMissing();
        if (!(await engine.raiseEvent(id, req.name, svValue(req.input)))) throw workflowErrors.instanceNotFound(id);
        return {};
      },
      TerminateInstance: async (req: { instanceId: string; output?: StringValue; recursive?: boolean }) => {
        const id = requireId(req.instanceId);
        if (!(await engine.terminate(id, svValue(req.output)))) throw workflowErrors.instanceNotFound(id);
        return {};
      },
      SuspendInstance: async (req: { instanceId: string }) => {
        const id = requireId(req.instanceId);
        if (!(await engine.setSuspended(id, true))) throw workflowErrors.instanceNotFound(id);
        return {};
      },
      ResumeInstance: async (req: { instanceId: string }) => {
        const id = requireId(req.instanceId);
        if (!(await engine.setSuspended(id, false))) throw workflowErrors.instanceNotFound(id);
        return {};
      },
      RerunWorkflowFromEvent: async (req: {
        sourceInstanceID?: string;
        eventID?: number;
        newInstanceID?: string | null;
        input?: StringValue;
        overwriteInput?: boolean;
        newChildWorkflowInstanceID?: string | null;
      }, call) => {
        const newInstanceID = await engine.rerun({
          sourceInstanceId: req.sourceInstanceID ?? '',
          eventId: Number(req.eventID ?? 0),
          newInstanceId: req.newInstanceID || undefined,
          overwriteInput: req.overwriteInput === true,
          input: svValue(req.input),
          newChildWorkflowInstanceId: req.newChildWorkflowInstanceID || undefined,
        }, startTrace(undefined, call));
        return { newInstanceID };
      },
      PurgeInstances: async (req: {
        instanceId?: string;
        purgeInstanceFilter?: { createdTimeFrom?: Timestamp | null; createdTimeTo?: Timestamp | null; runtimeStatus?: (string | number)[] } | null;
      }) => {
        if (req.purgeInstanceFilter) {
          const f = req.purgeInstanceFilter;
          const filter: InstanceFilter = {};
          const from = optionalDate(f.createdTimeFrom);
          const to = optionalDate(f.createdTimeTo);
          const statuses = toStatuses(f.runtimeStatus);
          if (from) filter.createdFrom = from;
          if (to) filter.createdTo = to;
          if (statuses) filter.statuses = statuses;
          return { deletedInstanceCount: await engine.purgeWhere(filter) };
        }
        return { deletedInstanceCount: (await engine.purge(requireId(req.instanceId))) ?? 0 };
      },
    },
    { GetWorkItems: getWorkItems },
  );
}
