/**
 * The JetStream publisher on the real NATS server: a publish resolves once the stream stored the
 * message, and rejects, naming the subject, when no stream takes it, when JetStream refuses it, and
 * when nothing answers within the timeout. Publishes of one event-loop turn all settle.
 */
import { randomUUID } from 'node:crypto';
import { StorageType, connect, headers } from 'nats';
import type { NatsConnection } from 'nats';
import { afterEach, describe, expect, it } from 'vitest';
import { SERVICES, requireService } from '../../../../../../test/support/services.js';
import { JetStreamPublisher } from './publisher.js';

const up = await requireService(SERVICES.nats, 'JetStream publisher');

const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function setUp(timeoutMs = 5000): Promise<{ nc: NatsConnection; publisher: JetStreamPublisher; subject: string; stream: string }> {
  const nc = await connect({ servers: `nats://${SERVICES.nats.host}:${SERVICES.nats.port}` });
  const subject = `weft-jspub-${randomUUID()}`;
  const stream = subject.replace(/-/g, '_');
  const jsm = await nc.jetstreamManager();
  await jsm.streams.add({ name: stream, subjects: [subject], storage: StorageType.Memory });
  const publisher = new JetStreamPublisher(nc, timeoutMs);
  cleanups.push(async () => {
    publisher.close();
    await jsm.streams.delete(stream);
    await nc.close();
  });
  return { nc, publisher, subject, stream };
}

describe.skipIf(!up)('JetStream publisher', () => {
  it('resolves every publish of one turn once the stream stored it, with data and headers intact', async () => {
    const { nc, publisher, subject, stream } = await setUp();
    const h = headers();
    h.set('content-type', 'text/plain');
    await Promise.all(Array.from({ length: 20 }, (_, i) => publisher.publish(subject, Buffer.from(`m${i}`), i === 0 ? h : undefined)));
    const jsm = await nc.jetstreamManager();
    expect((await jsm.streams.info(stream)).state.messages).toBe(20);
    const first = await jsm.streams.getMessage(stream, { seq: 1 });
    expect(Buffer.from(first.data).toString()).toBe('m0');
    expect(first.header.get('content-type')).toBe('text/plain');
  });

  it('rejects a publish that no stream takes (no responders)', async () => {
    const { publisher } = await setUp();
    const orphan = `weft-jspub-none-${randomUUID()}`;
    await expect(publisher.publish(orphan, Buffer.from('x'), undefined)).rejects.toThrow(`no JetStream stream takes subject ${orphan}`);
  });

  it('rejects a publish that JetStream refuses, with its reason', async () => {
    const { publisher, subject } = await setUp();
    const h = headers();
    h.set('Nats-Expected-Stream', 'not-this-stream');
    await expect(publisher.publish(subject, Buffer.from('x'), h)).rejects.toThrow(/JetStream refused the publish to .*: .*stream/i);
  });

  it('rejects a publish nothing answers once the timeout has passed', async () => {
    const { nc, publisher } = await setUp(200);
    // A plain subscriber takes the message and never replies.
    const silent = `weft-jspub-silent-${randomUUID()}`;
    const sub = nc.subscribe(silent);
    cleanups.push(async () => sub.unsubscribe());
    await nc.flush();
    await expect(publisher.publish(silent, Buffer.from('x'), undefined)).rejects.toThrow(`did not acknowledge the publish to ${silent} within 200 ms`);
  });
});
