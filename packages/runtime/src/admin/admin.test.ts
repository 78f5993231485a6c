import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../logging/logger.js';
import { PubSubTraffic, eventPayload } from './pubsub-traffic.js';
import { RecentLogs } from './recent-logs.js';
import { Ring } from './ring.js';

const cloudEvent = (id: string, data: unknown) => Buffer.from(JSON.stringify({ specversion: '1.0', id, type: 't', source: 's', data }));

describe('admin ring buffers', () => {
  it('keeps only the newest entries, newest first', () => {
    const ring = new Ring<number>(3);
    for (let i = 1; i <= 5; i++) ring.push(i);
    expect(ring.newest()).toEqual([5, 4, 3]);
  });

  it('shows a CloudEvent by its data and id, and raw bytes as text', () => {
    expect(eventPayload(cloudEvent('e1', { order: 7 }))).toEqual({ payload: '{"order":7}', eventId: 'e1' });
    expect(eventPayload(Buffer.from('plain'))).toEqual({ payload: 'plain' });
  });

  it('records traffic per topic and keeps dead letters with their bytes for replay', () => {
    const traffic = new PubSubTraffic(10);
    traffic.record({ pubsubName: 'ps', topic: 'a', outcome: 'success', route: '/a', data: cloudEvent('1', 1) });
    traffic.record({ pubsubName: 'ps', topic: 'b', outcome: 'retry', reason: 'HTTP 500', data: cloudEvent('2', 2) });
    const message = { topic: 'b', data: cloudEvent('2', 2), metadata: {} };
    const dead = traffic.recordDeadLetter({ pubsubName: 'ps', deadLetterTopic: 'b-dead', reason: 'retries exhausted', message });
    expect(traffic.recent({ topic: 'b' }).map((e) => e.outcome)).toEqual(['deadlettered', 'retry']);
    expect(traffic.recent({ afterSeq: 2 }).map((e) => e.seq)).toEqual([3]);
    expect(traffic.listDeadLetters()).toEqual([expect.objectContaining({ id: dead.id, topic: 'b', deadLetterTopic: 'b-dead', eventId: '2', payload: '2' })]);
    expect(traffic.listDeadLetters()[0]).not.toHaveProperty('message');
    expect(traffic.deadLetter(dead.id)?.message.data.equals(message.data)).toBe(true);
  });

  it('keeps the logger lines parsed and filters them by level and text', () => {
    const logs = new RecentLogs();
    const out = new PassThrough();
    let written = '';
    out.on('data', (c: Buffer) => (written += c.toString()));
    const logger = createLogger({ level: 'debug', onLine: (l) => logs.addLine(l), destination: out });
    logger.debug('warming up');
    logger.child('weft.runtime.pubsub').warn('delivery failed', { topic: 'orders' });
    logger.error('store down');
    expect(logs.recent().map((e) => e.msg)).toEqual(['store down', 'delivery failed', 'warming up']);
    expect(logs.recent({ level: 'warn' }).map((e) => e.msg)).toEqual(['store down', 'delivery failed']);
    expect(logs.recent({ text: 'ORDERS' })).toEqual([expect.objectContaining({ scope: 'weft.runtime.pubsub', level: 'warn', fields: { topic: 'orders' } })]);
    // The tap does not swallow anything: the text output still has every line.
    expect(written).toContain('warming up');
    expect(written).toContain('store down');
  });
});
