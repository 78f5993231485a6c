import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { ErrorCodeMetrics } from '../observability/error-code-metrics.js';
import { MetricFactory } from '../observability/metric-factory.js';
import { GrpcCode } from './api-error.js';
import type { ApiError } from './api-error.js';
import { errorCategory } from './error-categories.js';
import { bindingErrors, commonErrors, invokeErrors, jobErrors, pubsubErrors, secretErrors, stateErrors, workflowErrors } from './index.js';

/** Codes Weft answers that daprd's catalogue does not list (daprd does not count them either). */
const UNCATALOGUED = new Set(['ERR_NOT_FOUND', 'ERR_METHOD_NOT_ALLOWED', 'ERR_UNAUTHENTICATED', 'ERR_HTTP_REQUEST_TIMEOUT', 'ERR_RERUN_WORKFLOW']);

function everyCatalogError(): ApiError[] {
  const families = [bindingErrors, commonErrors, invokeErrors, jobErrors, pubsubErrors, secretErrors, stateErrors, workflowErrors];
  return families.flatMap((family) =>
    Object.values(family as Record<string, (...args: unknown[]) => ApiError>).map((make) => make('x', 'y', GrpcCode.INTERNAL)),
  );
}

describe('error categories', () => {
  it('files codes under the categories of daprd’s catalogue', () => {
    const category = (code: string) => errorCategory({ code, info: undefined });
    expect(category('ERR_STATE_GET')).toBe('state');
    expect(category('ERR_PUBSUB_NOT_FOUND')).toBe('pubsub');
    expect(category('ERR_TOPIC_NAME_EMPTY')).toBe('pubsub');
    expect(category('ERR_INSTANCE_ID_NOT_FOUND')).toBe('workflow');
    expect(category('ERR_DIRECT_INVOKE')).toBe('service-invocation');
    expect(category('ERR_INVOKE_OUTPUT_BINDING')).toBe('binding');
    expect(category('ERR_PERMISSION_DENIED')).toBe('secret');
    expect(category('DAPR_SCHEDULER_SCHEDULE_JOB')).toBe('job');
    expect(category('ERR_HEALTH_NOT_READY')).toBe('health');
    expect(category('ERR_BAD_REQUEST')).toBe('common');
    expect(category('ERR_NOT_FOUND')).toBeUndefined();
  });

  it('files ERR_MALFORMED_REQUEST under state only for an illegal state key', () => {
    expect(errorCategory(stateErrors.illegalKey('a||b'))).toBe('state');
    expect(errorCategory(stateErrors.keyRequired())).toBe('common');
    expect(errorCategory(commonErrors.malformedRequest('bad body'))).toBe('common');
  });

  it('has a category for every code the error catalog produces, apart from the ones daprd does not catalogue either', () => {
    const missing = everyCatalogError()
      .filter((e) => errorCategory(e) === undefined)
      .map((e) => e.code);
    expect([...new Set(missing)].filter((code) => !UNCATALOGUED.has(code))).toEqual([]);
  });
});

describe('dapr_error_code_total', () => {
  it('counts each catalogued code with app_id, category and error_code, and skips uncatalogued ones', async () => {
    const registry = new Registry();
    const metrics = new ErrorCodeMetrics(new MetricFactory(registry, [1, 10]), 'app');
    metrics.record(stateErrors.storeNotFound('nope', 'app'));
    metrics.record(stateErrors.storeNotFound('other', 'app'));
    metrics.record(workflowErrors.instanceNotFound('i1'));
    metrics.record(commonErrors.notFound('GET', '/nowhere'));
    const text = await registry.metrics();
    expect(text).toContain('dapr_error_code_total{app_id="app",category="state",error_code="ERR_STATE_STORE_NOT_FOUND"} 2');
    expect(text).toContain('dapr_error_code_total{app_id="app",category="workflow",error_code="ERR_INSTANCE_ID_NOT_FOUND"} 1');
    expect(text).not.toContain('ERR_NOT_FOUND');
  });
});
