import { describe, expect, it } from 'vitest';
import { taskHubService } from '../../api/grpc/protos.js';
import type { WorkItemMessage } from '../../workflow/dispatcher.js';
import { ev, sv } from '../../workflow/history.js';
import { encodeHistoryEvent, encodeWorkItem } from './work-item-encoding.js';

const at = new Date('2026-01-02T03:04:05.678Z');
const method = taskHubService()['GetWorkItems']!;

function orchestratorItem(): WorkItemMessage {
  return {
    orchestratorRequest: {
      instanceId: 'order-1',
      executionId: { value: 'exec-1' },
      pastEvents: [
        ev.orchestratorStarted(at),
        ev.executionStarted('order-1', 'orderWorkflow', '{"a":1}', { at, executionId: 'exec-1' }),
        ev.taskScheduled(1, 'plusOne', '1', at),
        ev.timerCreated(2, at, at),
        ev.taskFailed(3, { errorType: 'Boom', errorMessage: 'no', stackTrace: sv('at x'), innerFailure: null, isNonRetriable: true }, at),
      ],
      newEvents: [ev.orchestratorStarted(at), ev.taskCompleted(1, '2', at), ev.eventRaised('approve', null, at)],
    },
    completionToken: 'o42',
  };
}

describe('encodeWorkItem', () => {
  it('writes an orchestration work item that decodes to the same message as the service serializer', () => {
    const item = orchestratorItem();
    const mine = encodeWorkItem(item);
    expect(method.responseDeserialize(mine)).toEqual(method.responseDeserialize(method.responseSerialize(item)));
  });

  it('reuses the bytes of an event object it encoded before', () => {
    const event = ev.taskCompleted(4, '5', at);
    expect(encodeHistoryEvent(event)).toBe(encodeHistoryEvent(event));
  });

  it('hands an activity work item to the service serializer unchanged', () => {
    const item: WorkItemMessage = {
      completionToken: 'exec-1#1',
      activityRequest: { name: 'plusOne', input: { value: '1' }, orchestrationInstance: { instanceId: 'order-1', executionId: { value: 'exec-1' } }, taskId: 1 },
    };
    expect(encodeWorkItem(item).equals(method.responseSerialize(item))).toBe(true);
  });
});
