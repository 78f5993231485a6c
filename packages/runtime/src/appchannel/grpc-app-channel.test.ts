import * as grpc from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadDaprRuntimePackage } from '../api/grpc/protos.js';
import { GrpcAppChannel } from './grpc-app-channel.js';

type Json = Record<string, unknown>;
type Handler = (call: grpc.ServerUnaryCall<Json, Json>, callback: grpc.sendUnaryData<Json>) => void;

/** A gRPC app with AppCallback only: no bulk method, so bulk deliveries must fall back to OnTopicEvent. */
describe('GrpcAppChannel pub/sub callbacks', () => {
  let server: grpc.Server;
  let channel: GrpcAppChannel;
  const events: { request: Json; pubsubname: string | undefined }[] = [];

  beforeAll(async () => {
    const v1 = (loadDaprRuntimePackage() as unknown as { dapr: { proto: { runtime: { v1: Record<string, { service: grpc.ServiceDefinition }> } } } }).dapr.proto.runtime.v1;
    server = new grpc.Server();
    const onTopicEvent: Handler = (call, callback) => {
      events.push({ request: call.request, pubsubname: call.metadata.get('pubsubname')[0]?.toString() });
      const data = Buffer.from(call.request['data'] as Buffer).toString();
      // 7 is outside TopicEventResponseStatus: what an app built on a newer or broken proto could send.
      callback(null, { status: data.includes('unknown') ? 7 : data.includes('drop') ? 'DROP' : data.includes('retry') ? 'RETRY' : 'SUCCESS' });
    };
    const listTopicSubscriptions: Handler = (_call, callback) =>
      callback(null, {
        subscriptions: [
          {
            pubsub_name: 'ps',
            topic: 'orders',
            metadata: { rawPayload: 'false' },
            routes: { rules: [{ match: 'event.type == "a"', path: '/a' }], default: '/orders' },
            dead_letter_topic: 'dead',
            bulk_subscribe: { enabled: true, max_messages_count: 7, max_await_duration_ms: 30 },
          },
        ],
      });
    server.addService(v1['AppCallback']!.service, { OnTopicEvent: onTopicEvent, ListTopicSubscriptions: listTopicSubscriptions });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) => (err ? reject(err) : resolve(p))),
    );
    channel = new GrpcAppChannel({ host: '127.0.0.1', port });
  });

  afterAll(async () => {
    await channel.close();
    await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
  });

  it('answers ListTopicSubscriptions in the GET /dapr/subscribe shape', async () => {
    const res = await channel.call({ method: 'GET', path: '/dapr/subscribe', callback: { kind: 'subscriptions' } });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual([
      {
        pubsubname: 'ps',
        topic: 'orders',
        metadata: { rawPayload: 'false' },
        routes: { rules: [{ match: 'event.type == "a"', path: '/a' }], default: '/orders' },
        deadLetterTopic: 'dead',
        bulkSubscribe: { enabled: true, maxMessagesCount: 7, maxAwaitDurationMs: 30 },
      },
    ]);
  });

  it('sends a CloudEvent as TopicEventRequest with the route as path, extensions and pubsubname metadata', async () => {
    const event = { id: 'e1', source: 'app', type: 'a', specversion: '1.0', datacontenttype: 'application/json', data: { n: 1 }, topic: 'original', traceparent: 'tp', custom: 'x' };
    const res = await channel.call({
      method: 'POST',
      path: '/a',
      headers: { pubsubname: 'ps', 'content-type': 'application/cloudevents+json' },
      body: JSON.stringify(event),
      callback: { kind: 'topic-event', topic: 'orders', pubsubName: 'ps' },
    });
    expect(JSON.parse(res.body.toString())).toEqual({ status: 'SUCCESS' });
    const seen = events.at(-1)!;
    expect(seen.pubsubname).toBe('ps');
    expect(seen.request).toMatchObject({ id: 'e1', source: 'app', type: 'a', spec_version: '1.0', data_content_type: 'application/json', topic: 'orders', pubsub_name: 'ps', path: '/a' });
    expect(Buffer.from(seen.request['data'] as Buffer).toString()).toBe('{"n":1}');
    const fields = (seen.request['extensions'] as { fields: Record<string, { stringValue?: string }> }).fields;
    expect(fields['custom']?.stringValue).toBe('x');
    expect(fields['topic']?.stringValue).toBe('original');
  });

  it('passes a status outside the enum on as its number, an unknown status (retried, as daprd does), not SUCCESS', async () => {
    const res = await channel.call({
      method: 'POST',
      path: '/orders',
      body: JSON.stringify({ id: 'e3', specversion: '1.0', datacontenttype: 'text/plain', data: 'unknown status please' }),
      callback: { kind: 'topic-event', topic: 'orders', pubsubName: 'ps' },
    });
    expect(JSON.parse(res.body.toString())).toEqual({ status: '7' });
  });

  it('decodes data_base64 into the raw bytes', async () => {
    await channel.call({
      method: 'POST',
      path: '/orders',
      body: JSON.stringify({ id: 'e2', specversion: '1.0', datacontenttype: 'application/octet-stream', data_base64: Buffer.from('raw-bytes').toString('base64') }),
      callback: { kind: 'topic-event', topic: 'orders', pubsubName: 'ps' },
    });
    expect(Buffer.from(events.at(-1)!.request['data'] as Buffer).toString()).toBe('raw-bytes');
  });

  it('falls back to one OnTopicEvent per entry when the app implements no bulk method, keeping per-entry statuses', async () => {
    const ce = (id: string, data: string) => ({ id, specversion: '1.0', datacontenttype: 'text/plain', data });
    const envelope = {
      id: 'b1',
      type: 'com.dapr.event.sent.bulk',
      topic: 'orders',
      pubsubname: 'ps',
      metadata: {},
      entries: [
        { entryId: '1', event: ce('1', 'fine'), metadata: {}, contentType: 'application/cloudevents+json' },
        { entryId: '2', event: ce('2', 'please retry'), metadata: {}, contentType: 'application/cloudevents+json' },
        { entryId: '3', event: ce('3', 'drop it'), metadata: {}, contentType: 'application/cloudevents+json' },
      ],
    };
    const res = await channel.call({ method: 'POST', path: '/orders', body: JSON.stringify(envelope), callback: { kind: 'bulk-topic-event', topic: 'orders', pubsubName: 'ps' } });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body.toString())).toEqual({
      statuses: [
        { entryId: '1', status: 'SUCCESS' },
        { entryId: '2', status: 'RETRY' },
        { entryId: '3', status: 'DROP' },
      ],
    });
  });
});
