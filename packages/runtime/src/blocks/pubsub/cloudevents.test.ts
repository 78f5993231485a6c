import { describe, expect, it } from 'vitest';
import { completeCloudEvent, hasExpired, newCloudEvent, serializeCloudEvent } from './cloudevents.js';

const base = { topic: 'orders', pubsubName: 'pubsub', source: 'checkout' };

describe('CloudEvent envelopes', () => {
  it('embeds a JSON payload as data and sets Dapr fields', () => {
    const ce = newCloudEvent({ ...base, data: Buffer.from('{"a":1}'), contentType: 'application/json' });
    expect(ce).toMatchObject({ data: { a: 1 }, datacontenttype: 'application/json', source: 'checkout', type: 'com.dapr.event.sent', specversion: '1.0', topic: 'orders', pubsubname: 'pubsub' });
  });

  it('keeps text as a string, defaults to text/plain, and base64-encodes octet-streams', () => {
    expect(newCloudEvent({ ...base, data: Buffer.from('hi') })).toMatchObject({ data: 'hi', datacontenttype: 'text/plain' });
    const bin = newCloudEvent({ ...base, data: Buffer.from([0, 1, 2]), contentType: 'application/octet-stream' });
    expect(bin['data_base64']).toBe('AAEC');
    expect(bin['data']).toBeUndefined();
  });

  it('applies metadata.cloudevent overrides but never to topic or data', () => {
    const ce = newCloudEvent({
      ...base,
      data: Buffer.from('"x"'),
      contentType: 'application/json',
      metadata: { 'cloudevent.id': 'my-id', 'cloudevent.type': 'my.type', 'cloudevent.topic': 'nope' },
    });
    expect(ce).toMatchObject({ id: 'my-id', type: 'my.type', topic: 'orders', data: 'x' });
  });

  it('serialises with sorted keys so data comes first', () => {
    const ce = newCloudEvent({ ...base, data: Buffer.from('1'), contentType: 'application/json' });
    expect(Object.keys(JSON.parse(serializeCloudEvent(ce).toString()) as object)[0]).toBe('data');
  });

  it('serialises every key in sorted order, an added subject and an expiration too, and leaves out an empty payload', () => {
    const keysOf = (ce: Record<string, unknown>) => Object.keys(JSON.parse(serializeCloudEvent(ce).toString()) as object);
    const withSubject = newCloudEvent({ ...base, data: Buffer.from('1'), contentType: 'application/json', expiration: new Date(), metadata: { 'cloudevent.subject': 's' } });
    expect(keysOf(withSubject)).toEqual([...keysOf(withSubject)].sort());
    expect(keysOf(withSubject)).toContain('subject');
    expect(keysOf(withSubject)).toContain('expiration');
    const empty = newCloudEvent({ ...base, data: Buffer.alloc(0), contentType: 'application/json' });
    expect(keysOf(empty)).not.toContain('data');
    expect(keysOf(empty)).toEqual([...keysOf(empty)].sort());
  });

  it('completes an app CloudEvent, keeping its id and overwriting topic and pubsubname', () => {
    const ce = completeCloudEvent(Buffer.from('{"id":"1","source":"me","type":"t","specversion":"1.0","topic":"x"}'), base);
    expect(ce).toMatchObject({ id: '1', source: 'me', type: 't', topic: 'orders', pubsubname: 'pubsub' });
    expect(() => completeCloudEvent(Buffer.from('[1]'), base)).toThrow('a CloudEvent must be a JSON object');
  });

  it('reports expiry only for a past expiration', () => {
    expect(hasExpired({ expiration: '2000-01-01T00:00:00Z' })).toBe(true);
    expect(hasExpired({ expiration: new Date(Date.now() + 60_000).toISOString() })).toBe(false);
    expect(hasExpired({})).toBe(false);
  });
});
