import { TaskHubGrpcClient } from '@dapr/durabletask-js';
import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSidecar } from '../../../../../test/support/in-process.js';
import type { TestSidecar } from '../../../../../test/support/in-process.js';

let s: TestSidecar;
let client: TaskHubGrpcClient;

beforeAll(async () => {
  s = await startTestSidecar({ appId: 'taskhub-start' });
  client = new TaskHubGrpcClient(`127.0.0.1:${s.sidecar.grpcPort}`);
});

afterAll(async () => {
  await client?.stop();
  await s?.stop();
});

async function startError(instanceId: string): Promise<grpc.ServiceError> {
  const err = await client.scheduleNewOrchestration('wf', undefined, instanceId).then(
    () => undefined,
    (e: unknown) => e as grpc.ServiceError,
  );
  if (!err) throw new Error(`StartInstance accepted "${instanceId}"`);
  return err;
}

async function httpStart(instanceId: string): Promise<{ status: number; errorCode: string }> {
  const res = await fetch(`${s.baseUrl}/v1.0/workflows/dapr/wf/start?instanceID=${encodeURIComponent(instanceId)}`, { method: 'POST' });
  return { status: res.status, errorCode: ((await res.json()) as { errorCode: string }).errorCode };
}

describe('gRPC StartInstance validates the instance id as the HTTP API does', () => {
  it('refuses an id with characters other than letters, digits, _ and - with INVALID_ARGUMENT, as HTTP answers 400 ERR_INSTANCE_ID_INVALID', async () => {
    const err = await startError('order 42/x');
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toContain("workflow instance ID 'order 42/x' is invalid");
    expect(await httpStart('order 42/x')).toEqual({ status: 400, errorCode: 'ERR_INSTANCE_ID_INVALID' });
  });

  it('refuses an id longer than 64 characters with INVALID_ARGUMENT, as HTTP answers 400 ERR_INSTANCE_ID_TOO_LONG', async () => {
    const err = await startError('a'.repeat(65));
    expect(err.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(err.details).toContain('exceeds the max length of 64');
    expect(await httpStart('a'.repeat(65))).toEqual({ status: 400, errorCode: 'ERR_INSTANCE_ID_TOO_LONG' });
  });

  it('accepts a valid id and reports it back', async () => {
    expect(await client.scheduleNewOrchestration('wf', undefined, 'order_42-a')).toBe('order_42-a');
  });
});
