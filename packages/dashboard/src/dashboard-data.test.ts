import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, errorFromBody, sidecarPath } from './api/client.js';
import { pickSidecar } from './api/sidecars.js';
import { href, instanceHref, parseRoute } from './router.js';
import { filterQuery, instanceDetails, runAction } from './features/workflows/data.js';
import { readTokens } from './features/workflows/WorkflowsPage.js';
import { parseEditedValue } from './features/state/data.js';
import { subscriptionRules } from './shared/api.js';
import type { SidecarSummary } from './shared/api.js';

describe('dashboard data layer', () => {
  it('routes pages and instance links from the URL, with filters in the query string', () => {
    expect(parseRoute('/workflows', '?app=a&status=RUNNING')).toMatchObject({ page: 'workflows' });
    expect(parseRoute('/workflows', '?status=RUNNING').params.get('status')).toBe('RUNNING');
    expect(parseRoute(instanceHref('orders', 'id 1/x'), '')).toMatchObject({ page: 'instance', sidecar: 'orders', instanceId: 'id 1/x' });
    expect(parseRoute('/nope', '').page).toBe('apps');
    expect(href('/state', { app: 'a', prefix: '', key: undefined })).toBe('/state?app=a');
  });

  it('reads Dapr error bodies into errors with their code', () => {
    const e = errorFromBody(409, '{"errorCode":"ERR_STATE_SAVE","message":"possible etag mismatch"}');
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toMatchObject({ status: 409, errorCode: 'ERR_STATE_SAVE', message: 'possible etag mismatch' });
    expect(errorFromBody(502, '{"error":"sidecar down"}').message).toBe('sidecar down');
    expect(errorFromBody(500, 'plain').message).toBe('plain');
    expect(sidecarPath('a b', '/v1.0/metadata')).toBe('/api/sidecars/a%20b/proxy/v1.0/metadata');
  });

  it('turns list filters into the list API query, local times into ISO', () => {
    const q = filterQuery({ status: 'FAILED', name: 'order', idPrefix: 'o-', createdFrom: '2026-01-01T10:00', createdTo: 'garbage' });
    expect(q.get('status')).toBe('FAILED');
    expect(q.get('name')).toBe('order');
    expect(q.get('idPrefix')).toBe('o-');
    expect(q.get('createdFrom')).toBe(new Date('2026-01-01T10:00').toISOString());
    expect(q.has('createdTo')).toBe(false);
  });

  it('reads instance properties and page tokens, and rejects malformed ones', () => {
    expect(
      instanceDetails({
        instanceID: 'i',
        workflowName: 'w',
        createdAt: '',
        lastUpdatedAt: '',
        runtimeStatus: 'FAILED',
        properties: { 'dapr.workflow.input': '1', 'dapr.workflow.failure.error_message': 'boom' },
      }),
    ).toEqual({ input: '1', failureMessage: 'boom' });
    expect(readTokens(JSON.stringify(['a', 'b']))).toEqual(['a', 'b']);
    expect(readTokens('not json')).toEqual([]);
    expect(readTokens(null)).toEqual([]);
  });

  it('picks the app in the URL, else the first healthy sidecar', () => {
    const s = (id: string, healthy: boolean): SidecarSummary => ({ id, appId: id, httpUrl: '', source: 'registry', healthy, logs: { app: false, daprd: false }, metrics: false });
    expect(pickSidecar([s('a', false), s('b', true)], null)?.id).toBe('b');
    expect(pickSidecar([s('a', false), s('b', true)], 'a')?.id).toBe('a');
    expect(pickSidecar([s('a', true)], 'gone')).toBeUndefined();
  });

  it('accepts only JSON as an edited state value', () => {
    expect(parseEditedValue('{"a":1}')).toEqual({ ok: true, value: { a: 1 } });
    expect(parseEditedValue('"text"')).toEqual({ ok: true, value: 'text' });
    expect(parseEditedValue('text')).toMatchObject({ ok: false });
  });

  it('reads subscription rules in both metadata shapes', () => {
    expect(subscriptionRules({ pubsubname: 'p', topic: 't', rules: [{ path: '/a' }] })).toEqual([{ path: '/a' }]);
    expect(subscriptionRules({ pubsubname: 'p', topic: 't', rules: { rules: [{ path: '/b' }] } })).toEqual([{ path: '/b' }]);
    expect(subscriptionRules({ pubsubname: 'p', topic: 't' })).toEqual([]);
  });

  it("reruns from a step through the sidecar's admin API and resolves with the new instance id", async () => {
    const calls: { url: string; init: RequestInit | undefined }[] = [];
    vi.stubGlobal('fetch', async (url: string, init?: RequestInit) => {
      calls.push({ url, init });
      return new Response(JSON.stringify({ newInstanceID: 'order 7-b' }), { status: 202 });
    });
    const newId = await runAction('orders', 'order 7', { kind: 'rerun-from', eventId: 2, input: '{"qty":30}', newInstanceId: 'order 7-b' });
    expect(newId).toBe('order 7-b');
    expect(calls).toHaveLength(1);
    expect(calls[0]?.url).toBe(sidecarPath('orders', '/v1.0-weft/admin/workflows/order%207/rerun'));
    expect(calls[0]?.init?.method).toBe('POST');
    expect(JSON.parse(String(calls[0]?.init?.body))).toEqual({ eventId: 2, input: '{"qty":30}', newInstanceId: 'order 7-b' });
  });

  it('turns a refused rerun into an error with its code and message', async () => {
    vi.stubGlobal('fetch', async () =>
      new Response(JSON.stringify({ errorCode: 'ERR_RERUN_WORKFLOW', message: "'x' is not in a terminal state" }), { status: 400 }),
    );
    await expect(runAction('orders', 'x', { kind: 'rerun-from', eventId: 1, input: '1' })).rejects.toMatchObject({
      status: 400,
      errorCode: 'ERR_RERUN_WORKFLOW',
      message: "'x' is not in a terminal state",
    });
  });
});

afterEach(() => {
  vi.unstubAllGlobals();
});
