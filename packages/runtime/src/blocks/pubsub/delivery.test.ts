/**
 * How the app's answer to a delivery is read, status by status, as daprd reads it
 * (pkg/runtime/subscription/postman/http): exact statuses only, everything else it can decode retried
 * with a warning, and bodies it cannot decode taken as success.
 */
import { describe, expect, it } from 'vitest';
import type { AppChannel, AppRequest } from '../../appchannel/app-channel.js';
import { deliverBulk, deliverEvent } from './delivery.js';

/** An app channel that answers every call with one fixed 200 body. */
function answering(body: string): AppChannel {
  return {
    call: async (_request: AppRequest) => ({ status: 200, headers: { 'content-type': 'application/json' }, body: Buffer.from(body) }),
    close: async () => undefined,
  };
}

const deliver = (body: string) =>
  deliverEvent({ channel: answering(body), path: '/t', pubsubName: 'ps', topic: 't', event: { id: 'ev-1', data: 1 }, metadata: {}, timeoutMs: 1000 });

describe('reading a single delivery answer', () => {
  it.each([
    ['{"status":"SUCCESS"}', 'success'],
    ['{"status":""}', 'success'],
    ['{}', 'success'],
    ['', 'success'],
    ['null', 'success'],
    ['{"status":"RETRY"}', 'retry'],
    ['{"status":"DROP"}', 'drop'],
  ])('answers %s with %s and no warning', async (body, verdict) => {
    const result = await deliver(body);
    expect(result.verdict).toBe(verdict);
    expect(result.warning).toBeUndefined();
  });

  it.each(['success', 'Success', 'drop', 'retry', 'SUCCESS ', 'OK', 'DONE'])('retries status %j with a warning that says why', async (status) => {
    const result = await deliver(JSON.stringify({ status }));
    expect(result.verdict).toBe('retry');
    expect(result.warning).toContain(`unknown status ${JSON.stringify(status)}`);
    expect(result.warning).toContain('pub/sub event ev-1');
    expect(result.warning).toContain('"SUCCESS", "RETRY", "DROP" or empty');
  });

  it('matches the status key case-insensitively, as Go decodes JSON into a struct', async () => {
    expect((await deliver('{"Status":"DROP"}')).verdict).toBe('drop');
    expect((await deliver('{"STATUS":"nope"}')).verdict).toBe('retry');
  });

  it.each(['not json', '[1]', '"SUCCESS"', '{"status":5}', '{"status":{"a":1}}'])('takes %s as success: daprd cannot decode it and skips the check', async (body) => {
    const result = await deliver(body);
    expect(result.verdict).toBe('success');
    expect(result.warning).toBeUndefined();
  });
});

describe('reading a bulk delivery answer', () => {
  const entries = ['a', 'b', 'c', 'd'].map((entryId) => ({ entryId, event: { id: entryId }, metadata: {} }));
  const bulk = (body: unknown) =>
    deliverBulk({ channel: answering(JSON.stringify(body)), path: '/t', pubsubName: 'ps', topic: 't', metadata: {}, entries, timeoutMs: 1000 });

  it('retries an entry whose status is not exact, with a warning; an empty or missing status is RETRY too', async () => {
    const result = await bulk({
      statuses: [
        { entryId: 'a', status: 'SUCCESS' },
        { entryId: 'b', status: 'success' },
        { entryId: 'c', status: '' },
        { entryId: 'zz', status: 'SUCCESS' },
      ],
    });
    expect(Object.fromEntries(result.verdicts)).toEqual({ a: 'success', b: 'retry', c: 'retry', d: 'retry' });
    expect(result.warnings).toHaveLength(1);
    expect(result.warnings?.[0]).toContain('unknown status "success"');
    expect(result.warnings?.[0]).toContain('bulk entry b');
  });

  it('retries every entry when an entry cannot be decoded, as daprd fails the whole answer', async () => {
    const result = await bulk({ statuses: [{ entryId: 'a', status: 'SUCCESS' }, { entryId: 'b', status: 1 }] });
    expect([...result.verdicts.values()]).toEqual(['retry', 'retry', 'retry', 'retry']);
  });
});

describe('the body of a single delivery', () => {
  /** Delivers `bytes` (decoded as the handler decodes them) and returns the body the app received. */
  async function bodyFor(bytes: string): Promise<string> {
    let sent = '';
    const channel: AppChannel = {
      call: async (request: AppRequest) => {
        sent = Buffer.isBuffer(request.body) ? request.body.toString() : String(request.body);
        return { status: 200, headers: {}, body: Buffer.from('') };
      },
      close: async () => undefined,
    };
    const event = JSON.parse(bytes) as Record<string, unknown>;
    await deliverEvent({ channel, path: '/t', pubsubName: 'ps', topic: 't', event, bytes: Buffer.from(bytes), metadata: {}, timeoutMs: 1000 });
    return sent;
  }

  it('is the broker bytes unchanged when their keys are already sorted (a number past 2^53 keeps its digits)', async () => {
    const bytes = '{"data":{"n":12345678901234567890},"id":"e1","specversion":"1.0","type":"t"}';
    expect(await bodyFor(bytes)).toBe(bytes);
  });

  it('is the event serialised with sorted keys when the broker bytes are in another order', async () => {
    expect(await bodyFor('{"specversion":"1.0","id":"e1","data":1}')).toBe('{"data":1,"id":"e1","specversion":"1.0"}');
  });
});
