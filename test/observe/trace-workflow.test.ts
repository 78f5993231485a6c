/**
 * Workflow spans in the trace of the request that started the workflow, as durabletask-go writes
 * them: the start API span → `create_orchestration||<name>` → `orchestration||<name>` → one
 * `activity||<name>` per activity execution. A raw durabletask worker (the `TaskHubSidecarService`
 * protocol the SDKs speak) runs a workflow with two activities, so the test also sees what a worker
 * receives: the trace contexts in history and `ActivityRequest.parentTraceContext`.
 */
import * as grpc from '@grpc/grpc-js';
import { startZipkinCollector } from '../support/zipkin-collector.js';
import type { ZipkinCollector, ZipkinSpan } from '../support/zipkin-collector.js';
import { zipkinTracingConfig } from '../support/resources.js';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { taskHubService } from '../../packages/runtime/src/api/grpc/protos.js';
import { startObservedSidecar } from './observe-env.js';
import type { ObservedSidecar } from './observe-env.js';
import { eventually } from '../support/subscriber-app.js';

interface TraceContext {
  traceParent: string;
}
interface HistoryEvent {
  executionStarted?: { parentTraceContext?: TraceContext | null; orchestrationSpanID?: { value: string } | null } | null;
  taskScheduled?: { name: string; parentTraceContext?: TraceContext | null } | null;
  taskCompleted?: { taskScheduledId: number } | null;
}
interface WorkItem {
  orchestratorRequest?: { instanceId: string; pastEvents: HistoryEvent[]; newEvents: HistoryEvent[] } | null;
  activityRequest?: { name: string; taskId: number; orchestrationInstance: { instanceId: string }; parentTraceContext?: TraceContext | null } | null;
}
type Unary = (request: object, callback: (err: grpc.ServiceError | null) => void) => void;

const TRACE_ID = '7ab92f3577b34da6a3ce929d0e0e4736';
const PARENT_SPAN = '00f067aa0ba902b9';
let spans: ZipkinSpan[] = [];
const activityRequests: NonNullable<WorkItem['activityRequest']>[] = [];
let firstStart: HistoryEvent['executionStarted'];
let zipkin: ZipkinCollector;
let s: ObservedSidecar;
let worker: grpc.Client & Record<string, unknown>;
let stream: grpc.ClientReadableStream<WorkItem>;

function complete(method: string, request: object): void {
  (worker[method] as Unary).call(worker, request, (err) => {
    if (err) throw err;
  });
}

/** The workflow: schedule book-flight and book-hotel, complete once both are done. */
function onWorkItem(item: WorkItem): void {
  const activity = item.activityRequest;
  if (activity) {
    activityRequests.push(activity);
    complete('CompleteActivityTask', { instanceId: activity.orchestrationInstance.instanceId, taskId: activity.taskId, result: { value: `"${activity.name} booked"` } });
    return;
  }
  const o = item.orchestratorRequest;
  if (!o) return;
  const events = [...o.pastEvents, ...o.newEvents];
  firstStart ??= events.find((e) => e.executionStarted)?.executionStarted;
  const scheduled = events.some((e) => e.taskScheduled);
  const done = events.filter((e) => e.taskCompleted).length;
  const actions = !scheduled
    ? [
        { id: 1, scheduleTask: { name: 'book-flight', input: { value: '"LHR"' } } },
        { id: 2, scheduleTask: { name: 'book-hotel', input: { value: '"Soho"' } } },
      ]
    : done === 2
      ? [{ id: 3, completeOrchestration: { orchestrationStatus: 'ORCHESTRATION_STATUS_COMPLETED', result: { value: '"trip booked"' } } }]
      : [];
  complete('CompleteOrchestratorTask', { instanceId: o.instanceId, actions });
}

beforeAll(async () => {
  zipkin = await startZipkinCollector();
  spans = zipkin.spans;
  s = await startObservedSidecar({
    appId: 'wf-traced',
    config: zipkinTracingConfig(zipkin.endpoint),
  });
  const Client = grpc.makeGenericClientConstructor(taskHubService() as grpc.ServiceDefinition, 'TaskHubSidecarService');
  worker = new Client(`127.0.0.1:${s.sidecar.grpcPort}`, grpc.credentials.createInsecure()) as unknown as grpc.Client & Record<string, unknown>;
  stream = (worker['GetWorkItems'] as (req: object) => grpc.ClientReadableStream<WorkItem>).call(worker, {});
  stream.on('data', onWorkItem);
  stream.on('error', () => {});
  await eventually(() => s.sidecar.workflows?.workerCount === 1, 10_000, 'the worker stream is connected');
}, 30_000);

afterAll(async () => {
  stream?.cancel();
  worker?.close();
  await s?.stop();
  await zipkin?.close();
});

it('puts the orchestration and both activity executions in the trace of the start request, and hands the worker their contexts', async () => {
  const instanceId = `trip-${process.pid}`;
  const res = await fetch(`${s.baseUrl}/v1.0/workflows/dapr/trip/start?instanceID=${instanceId}`, {
    method: 'POST',
    body: '"London"',
    headers: { 'content-type': 'application/json', traceparent: `00-${TRACE_ID}-${PARENT_SPAN}-01` },
  });
  expect(res.status).toBe(202);
  const finished = await s.sidecar.workflows!.waitFor(instanceId, (i) => i.status === 'COMPLETED' || i.status === 'FAILED');
  expect(finished?.status).toBe('COMPLETED');
  await s.sidecar.tracer?.flush();

  const inTrace = spans.filter((sp) => sp.traceId === TRACE_ID);
  const one = (kind: string, name: string, parentId: string | undefined) => {
    const found = inTrace.filter((sp) => sp.kind === kind && sp.name === name && sp.parentId === parentId);
    expect(found, `${kind} ${name} under ${parentId}`).toHaveLength(1);
    return found[0]!;
  };
  const api = one('SERVER', '/v1.0/workflows/dapr/trip/start', PARENT_SPAN);
  const create = one('CLIENT', 'create_orchestration||trip', api.id);
  expect(create.tags).toMatchObject({ 'durabletask.type': 'orchestration', 'durabletask.task.name': 'trip', 'durabletask.task.instance_id': instanceId });
  const orchestration = one('SERVER', 'orchestration||trip', create.id);
  expect(orchestration.tags).toMatchObject({ 'durabletask.type': 'orchestration', 'durabletask.runtime_status': 'COMPLETED', 'durabletask.task.instance_id': instanceId });
  const flight = one('SERVER', 'activity||book-flight', orchestration.id);
  const hotel = one('SERVER', 'activity||book-hotel', orchestration.id);
  expect(flight.tags).toMatchObject({ 'durabletask.type': 'activity', 'durabletask.task.task_id': '1', 'durabletask.task.instance_id': instanceId });
  expect(hotel.tags).toMatchObject({ 'durabletask.task.task_id': '2' });

  // The worker saw the same contexts: in history (for its orchestrator) and on each activity request.
  expect(firstStart?.parentTraceContext?.traceParent).toBe(`00-${TRACE_ID}-${create.id}-01`);
  expect(firstStart?.orchestrationSpanID?.value).toBe(orchestration.id);
  const requestFor = (name: string) => activityRequests.find((r) => r.name === name)?.parentTraceContext?.traceParent;
  expect(requestFor('book-flight')).toBe(`00-${TRACE_ID}-${flight.id}-01`);
  expect(requestFor('book-hotel')).toBe(`00-${TRACE_ID}-${hotel.id}-01`);
});
