/** Work deferred to the end of the event-loop turn runs together, in order, and one failure stops none of the rest. */
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { EndOfTurn, corkUntilEndOfTurn } from './end-of-turn.js';

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('EndOfTurn', () => {
  it('runs what was queued in this turn after it, in order, reporting a throw and running the rest', async () => {
    const errors: unknown[] = [];
    const turn = new EndOfTurn((err) => errors.push(err));
    const ran: number[] = [];
    turn.run(() => ran.push(1));
    turn.run(() => {
      throw new Error('boom');
    });
    turn.run(() => ran.push(3));
    expect(ran).toEqual([]);
    await nextTurn();
    expect(ran).toEqual([1, 3]);
    expect(errors).toHaveLength(1);
    turn.run(() => ran.push(4));
    await nextTurn();
    expect(ran).toEqual([1, 3, 4]);
  });
});

describe('corkUntilEndOfTurn', () => {
  it('holds the writes of this turn and hands them on together at its end', async () => {
    const socket = new PassThrough();
    const writes: Buffer[][] = [];
    // What reaches the underlying resource: one batch per writev.
    socket._writev = (chunks, callback) => {
      writes.push(chunks.map((c) => c.chunk as Buffer));
      callback();
    };
    corkUntilEndOfTurn(socket);
    socket.write('a');
    corkUntilEndOfTurn(socket);
    socket.write('b');
    expect(writes).toEqual([]);
    await nextTurn();
    expect(writes.map((batch) => Buffer.concat(batch).toString())).toEqual(['ab']);
    expect(socket.writableCorked).toBe(0);
  });
});
