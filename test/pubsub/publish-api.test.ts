/**
 * In-process tier: the publish and bulk publish HTTP API against a real sidecar, checking Dapr's
 * status codes, error codes, envelopes and topic scoping. A subscriber sidecar on the same in-memory
 * bus shows what was published.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSidecar } from '../support/in-process.js';
import type { TestSidecar } from '../support/in-process.js';
import { startSubscriberApp } from '../support/subscriber-app.js';
import type { SubscriberApp } from '../support/subscriber-app.js';

const ps = `ps${Math.random().toString(36).slice(2, 8)}`;
const COMPONENT = `
apiVersion: dapr.io/v1alpha1
kind: Component
metadata: {name: ${ps}}
spec:
  type: pubsub.in-memory
  version: v1
  metadata:
  - {name: publishingScopes, value: "test-app=orders,a/b/c,bulk,ce,text,empty"}
`;

let pub: TestSidecar;
let sub: TestSidecar;
let app: SubscriberApp;

beforeAll(async () => {
  app = await startSubscriberApp(
    ['orders', 'a/b/c', 'bulk', 'ce', 'text'].map((topic) => ({ pubsubname: ps, topic, route: `/${topic.replaceAll('/', '-')}` })),
  );
  sub = await startTestSidecar({ appId: 'subscriber', resources: [COMPONENT], appPort: app.port });
  pub = await startTestSidecar({ resources: [COMPONENT] });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const meta = (await (await fetch(`${sub.baseUrl}/v1.0/metadata`)).json()) as { subscriptions: unknown[] };
    if (meta.subscriptions.length === 5) break;
    await new Promise((r) => setTimeout(r, 30));
  }
});

afterAll(async () => {
  await pub.stop();
  await sub.stop();
  await app.close();
});

async function post(path: string, body: string, contentType = 'application/json'): Promise<{ status: number; json: Record<string, unknown> | undefined }> {
  const res = await fetch(`${pub.baseUrl}${path}`, { method: 'POST', body, headers: { 'content-type': contentType } });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
}

describe('publish API', () => {
  it('answers 204 and keeps the slashes of a topic', async () => {
    expect((await post(`/v1.0/publish/${ps}/a/b/c`, '{"x":1}')).status).toBe(204);
    await app.waitFor((d) => d.some((x) => x.path === '/a-b-c'));
    expect(app.at('/a-b-c')[0]!.body).toMatchObject({ topic: 'a/b/c', data: { x: 1 } });
  });

  it('percent-decodes the topic exactly once', async () => {
    const res = await post(`/v1.0/publish/${ps}/text%20x`, '"y"');
    // Both are outside the publishing scopes; the message names the decoded topic.
    expect(res.json?.['message']).toBe('topic text x is not allowed for app id test-app');
    expect((await post(`/v1.0/publish/${ps}/text%2520x`, '"y"')).json?.['message']).toBe('topic text%20x is not allowed for app id test-app');
  });

  it('wraps a text body as a string with datacontenttype text/plain', async () => {
    await post(`/v1.0/publish/${ps}/text`, 'Hello, world!', 'text/plain');
    await app.waitFor((d) => d.some((x) => x.path === '/text'));
    expect(app.at('/text')[0]!.body).toMatchObject({ data: 'Hello, world!', datacontenttype: 'text/plain' });
  });

  it('passes an application/cloudevents+json body through, applying metadata.cloudevent overrides', async () => {
    const ce = { specversion: '1.0', id: 'my-id', source: 'my-source', type: 'my.type', datacontenttype: 'application/json', data: { a: 1 } };
    await post(`/v1.0/publish/${ps}/ce?metadata.cloudevent.type=overridden`, JSON.stringify(ce), 'application/cloudevents+json');
    await app.waitFor((d) => d.some((x) => x.path === '/ce'));
    expect(app.at('/ce')[0]!.body).toMatchObject({ id: 'my-id', source: 'my-source', type: 'overridden', data: { a: 1 }, topic: 'ce', pubsubname: ps });
  });

  it('returns 404 ERR_PUBSUB_NOT_FOUND for an unknown pubsub', async () => {
    const res = await post('/v1.0/publish/nope/orders', '{}');
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ errorCode: 'ERR_PUBSUB_NOT_FOUND', message: 'pubsub nope is not found' });
  });

  it('returns 404 ERR_TOPIC_NAME_EMPTY when the topic is missing', async () => {
    const res = await post(`/v1.0/publish/${ps}/`, '{}');
    expect(res.status).toBe(404);
    expect(res.json).toMatchObject({ errorCode: 'ERR_TOPIC_NAME_EMPTY', message: `topic is empty in pubsub ${ps}` });
  });

  it('returns 403 ERR_PUBSUB_FORBIDDEN for a topic outside the publishing scopes', async () => {
    const res = await post(`/v1.0/publish/${ps}/secret`, '{}');
    expect(res.status).toBe(403);
    expect(res.json).toMatchObject({ errorCode: 'ERR_PUBSUB_FORBIDDEN', message: 'topic secret is not allowed for app id test-app' });
  });

  it('returns 400 ERR_PUBSUB_REQUEST_METADATA for a rawPayload that is not a boolean', async () => {
    const res = await post(`/v1.0/publish/${ps}/orders?metadata.rawPayload=maybe`, '{}');
    expect(res.status).toBe(400);
    expect(res.json?.['errorCode']).toBe('ERR_PUBSUB_REQUEST_METADATA');
  });

  it('returns 500 ERR_PUBSUB_CLOUD_EVENTS_SER for a cloudevents+json body that is not a JSON object', async () => {
    const res = await post(`/v1.0/publish/${ps}/orders`, 'not json', 'application/cloudevents+json');
    expect(res.status).toBe(500);
    expect(res.json?.['errorCode']).toBe('ERR_PUBSUB_CLOUD_EVENTS_SER');
  });

  it('returns 400 ERR_PUBSUB_NOT_CONFIGURED when the sidecar has no pubsub at all', async () => {
    const bare = await startTestSidecar({
      resources: ['apiVersion: dapr.io/v1alpha1\nkind: Component\nmetadata: {name: s}\nspec: {type: state.in-memory, version: v1}\n'],
    });
    try {
      const res = await fetch(`${bare.baseUrl}/v1.0/publish/pubsub/orders`, { method: 'POST', body: '{}' });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { errorCode: string }).errorCode).toBe('ERR_PUBSUB_NOT_CONFIGURED');
    } finally {
      await bare.stop();
    }
  });
});

describe('bulk publish API', () => {
  it('publishes every entry, accepting the SDK spelling entryID', async () => {
    const entries = [
      { entryID: '1', event: 'one', contentType: 'text/plain' },
      { entryId: '2', event: { n: 2 }, contentType: 'application/json' },
    ];
    expect((await post(`/v1.0-alpha1/publish/bulk/${ps}/bulk`, JSON.stringify(entries))).status).toBe(204);
    await app.waitFor((d) => d.filter((x) => x.path === '/bulk').length === 2);
    expect(app.at('/bulk').map((d) => (d.body as { data: unknown }).data)).toEqual(expect.arrayContaining(['one', { n: 2 }]));
  });

  it('returns 400 ERR_PUBSUB_EVENTS_SER for duplicate or missing entry ids and publishes nothing', async () => {
    const before = app.at('/bulk').length;
    const dup = await post(`/v1.0-alpha1/publish/bulk/${ps}/bulk`, JSON.stringify([{ entryId: 'a', event: 1 }, { entryId: 'a', event: 2 }]));
    expect(dup.status).toBe(400);
    expect(dup.json?.['errorCode']).toBe('ERR_PUBSUB_EVENTS_SER');
    const missing = await post(`/v1.0-alpha1/publish/bulk/${ps}/bulk`, JSON.stringify([{ event: 1 }]));
    expect(missing.status).toBe(400);
    expect(missing.json?.['errorCode']).toBe('ERR_PUBSUB_EVENTS_SER');
    const malformed = await post(`/v1.0-alpha1/publish/bulk/${ps}/bulk`, '{"not":"an array"}');
    expect(malformed.status).toBe(400);
    expect(malformed.json?.['errorCode']).toBe('ERR_PUBSUB_EVENTS_SER');
    await post(`/v1.0/publish/${ps}/bulk`, '"marker"');
    await app.waitFor((d) => d.filter((x) => x.path === '/bulk').length === before + 1);
    expect((app.at('/bulk').at(-1)!.body as { data: unknown }).data).toBe('marker');
  });

  it('returns the single-publish errors for an unknown pubsub and a forbidden topic', async () => {
    expect((await post('/v1.0-alpha1/publish/bulk/nope/bulk', '[]')).json?.['errorCode']).toBe('ERR_PUBSUB_NOT_FOUND');
    const forbidden = await post(`/v1.0-alpha1/publish/bulk/${ps}/secret`, '[]');
    expect(forbidden.status).toBe(403);
  });
});
