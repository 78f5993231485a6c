/** The event bus's payload handling: what Dapr may hand a gRPC handler, and what comes out. */
import { describe, expect, it } from 'vitest';
import { MalformedEventError, decodeEnvelope, unwrapPayload } from '../src/shared/event-bus.js';

const envelope = { event_id: 'e-1', event_type: 'payment.confirmed', timestamp: '2026-01-01T00:00:00Z', metadata: { source: 'test' }, data: { order_id: 'o-1' } };

describe('unwrapPayload', () => {
  it('takes an object, a JSON string and JSON bytes alike', () => {
    expect(unwrapPayload(envelope)).toEqual(envelope);
    expect(unwrapPayload(JSON.stringify(envelope))).toEqual(envelope);
    expect(unwrapPayload(new TextEncoder().encode(JSON.stringify(envelope)))).toEqual(envelope);
    expect(unwrapPayload(Buffer.from(JSON.stringify(envelope)))).toEqual(envelope);
  });

  it('opens CloudEvent envelopes, with data or data_base64, also when nested in bytes', () => {
    const ce = { specversion: '1.0', id: 'ce-1', source: 'order-service', type: 'com.dapr.event.sent', datacontenttype: 'application/json', data: envelope };
    expect(unwrapPayload(ce)).toEqual(envelope);
    expect(unwrapPayload(Buffer.from(JSON.stringify(ce)))).toEqual(envelope);
    const b64 = { specversion: '1.0', id: 'ce-2', source: 's', type: 't', data_base64: Buffer.from(JSON.stringify(envelope)).toString('base64') };
    expect(unwrapPayload(b64)).toEqual(envelope);
    expect(unwrapPayload({ specversion: '1.0', id: 'ce-3', source: 's', type: 't', data: JSON.stringify(envelope) })).toEqual(envelope);
  });

  it('refuses empty and non-JSON payloads as malformed (dropped to the dead-letter topic)', () => {
    expect(() => unwrapPayload('')).toThrow(MalformedEventError);
    expect(() => unwrapPayload('not json')).toThrow(MalformedEventError);
  });
});

describe('decodeEnvelope', () => {
  it('returns the envelope, defaulting metadata', () => {
    const { metadata: _m, ...bare } = envelope;
    expect(decodeEnvelope(bare)).toEqual({ ...bare, metadata: {} });
  });

  it('names every missing field of a payload that is not an envelope', () => {
    expect(() => decodeEnvelope({ hello: 'world' })).toThrow(/event_id.*event_type.*timestamp/s);
  });
});
