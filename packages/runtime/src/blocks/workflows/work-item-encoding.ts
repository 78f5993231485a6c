/**
 * Encoding of `WorkItem` messages for the `GetWorkItems` stream. An orchestration work item is
 * mostly its past events, and those are the same objects step after step (the engine keeps a leased
 * instance's history in memory, `workflow/history-cache.ts`): each `HistoryEvent` is encoded once,
 * remembered beside its object, and copied into every later work item as bytes. Everything else is
 * encoded by the service's own serializer.
 */
import type * as Protobuf from 'protobufjs';
import { taskHubMessageType, taskHubService } from '../../api/grpc/protos.js';
import { lazyModule } from '../../util/lazy-module.js';
import type { WorkItemMessage } from '../../workflow/dispatcher.js';
import type { HistoryEvent } from '../../workflow/types.js';

/** Encoded `HistoryEvent`s by event object; an event no longer referenced takes its bytes with it. */
const encodedEvents = new WeakMap<HistoryEvent, Uint8Array>();

/** Loaded with the first work item (a sidecar whose app runs no workflow never loads it). */
const protobuf = lazyModule<typeof Protobuf>('protobufjs');

let historyEventType: Protobuf.Type | undefined;

/** The protobuf encoding of one history event, made once per event object. */
export function encodeHistoryEvent(event: HistoryEvent): Uint8Array {
  let bytes = encodedEvents.get(event);
  if (!bytes) {
    historyEventType ??= taskHubMessageType('HistoryEvent');
    // As the service's serializer does (`fromObject`, then `encode`), so the bytes are the same.
    bytes = historyEventType.encode(historyEventType.fromObject(event)).finish();
    encodedEvents.set(event, bytes);
  }
  return bytes;
}

// Field tags (field number << 3 | wire type 2, length-delimited) of the messages written by hand.
const WORK_ITEM_ORCHESTRATOR_REQUEST = (1 << 3) | 2;
const WORK_ITEM_COMPLETION_TOKEN = (10 << 3) | 2;
const REQUEST_INSTANCE_ID = (1 << 3) | 2;
const REQUEST_EXECUTION_ID = (2 << 3) | 2;
const REQUEST_PAST_EVENTS = (3 << 3) | 2;
const REQUEST_NEW_EVENTS = (4 << 3) | 2;
const STRING_VALUE_VALUE = (1 << 3) | 2;

/** The fields {@link encodeWorkItem} writes by hand; a message with any other goes to the serializer. */
const REQUEST_KEYS = new Set(['instanceId', 'executionId', 'pastEvents', 'newEvents']);
const ITEM_KEYS = new Set(['orchestratorRequest', 'completionToken']);

/** Encodes a `WorkItem` as the stream's serializer would, reusing the bytes of events encoded before. */
export function encodeWorkItem(item: WorkItemMessage): Buffer {
  if (!('orchestratorRequest' in item) || !Object.keys(item).every((k) => ITEM_KEYS.has(k)) || !Object.keys(item.orchestratorRequest).every((k) => REQUEST_KEYS.has(k))) {
    return taskHubService()['GetWorkItems']!.responseSerialize(item);
  }
  const r = item.orchestratorRequest;
  const w = protobuf().Writer.create();
  w.uint32(WORK_ITEM_ORCHESTRATOR_REQUEST).fork();
  if (r.instanceId) w.uint32(REQUEST_INSTANCE_ID).string(r.instanceId);
  w.uint32(REQUEST_EXECUTION_ID).fork();
  if (r.executionId.value) w.uint32(STRING_VALUE_VALUE).string(r.executionId.value);
  w.ldelim();
  for (const e of r.pastEvents) w.uint32(REQUEST_PAST_EVENTS).bytes(encodeHistoryEvent(e));
  for (const e of r.newEvents) w.uint32(REQUEST_NEW_EVENTS).bytes(encodeHistoryEvent(e));
  w.ldelim();
  if (item.completionToken) w.uint32(WORK_ITEM_COMPLETION_TOKEN).string(item.completionToken);
  const bytes = w.finish();
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
