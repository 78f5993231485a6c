/**
 * Conformance cases at the store level, below the HTTP API: declared features, raw bytes (which only
 * gRPC can save), etag errors as typed exceptions, bulk reads and transactions touching one key twice.
 */
import { randomBytes } from 'node:crypto';
import { expect, it } from 'vitest';
import { ETagInvalidError, ETagMismatchError, isBulk, isTransactional } from '../../src/components/state/store.js';
import { foreignEtag } from './state-cases-crud.js';
import type { DriverRun } from './state-harness.js';

/** Registers the store-level cases. */
export function storeCases(run: DriverRun): void {
  const stored = (key: string) => `${run.appId}||${key}`;

  it('declares exactly the features of its capability list, in features() and the metadata API', async () => {
    expect([...run.store.features()].sort()).toEqual([...run.driver.features].sort());
    const res = await fetch(`${run.sidecar.baseUrl}/v1.0/metadata`);
    const body = (await res.json()) as { components: { name: string; type: string; capabilities: string[] }[] };
    const component = body.components.find((c) => c.name === run.storeName);
    expect(component?.type).toBe(run.driver.type);
    // daprd adds ACTOR to every store with ETags and transactions, whatever actorStateStore says.
    const actor = run.driver.features.includes('ETAG') && run.driver.features.includes('TRANSACTIONAL') ? ['ACTOR'] : [];
    expect([...(component?.capabilities ?? [])].sort()).toEqual([...run.driver.features, ...actor].sort());
  });

  it('keeps arbitrary binary bytes unchanged and serves them over HTTP as they are', async () => {
    const key = run.key('binary');
    const value = Buffer.concat([Buffer.from([0x00, 0xff, 0xfe, 0x80]), randomBytes(1024 * 1024)]);
    await run.store.set({ key: stored(key), value });
    const item = await run.store.get({ key: stored(key) });
    expect(item?.value.equals(value)).toBe(true);
    const res = await run.api.get(key);
    expect(res.status).toBe(200);
    expect(res.body.equals(value)).toBe(true);
  });

  const malformedError = (op: 'save' | 'delete') => (run.driver.malformedEtag[op] === 'invalid' ? ETagInvalidError : ETagMismatchError);
  it(`throws ${malformedError('save').name} for a malformed etag on set and ${malformedError('delete').name} on delete`, async () => {
    const key = stored(run.key('store-bad-etag'));
    await run.store.set({ key, value: Buffer.from('1') });
    await expect(run.store.set({ key, value: Buffer.from('2'), etag: 'x-1' })).rejects.toBeInstanceOf(malformedError('save'));
    await expect(run.store.delete({ key, etag: 'x-1' })).rejects.toBeInstanceOf(malformedError('delete'));
    expect((await run.store.get({ key }))?.value.toString()).toBe('1');
  });

  it('throws ETagMismatchError for an etag that matches nothing, and for first-write over an existing key', async () => {
    const key = stored(run.key('store-mismatch'));
    if (run.driver.etagOnMissingKey === 'conflict') {
      await expect(run.store.delete({ key, etag: foreignEtag(run) })).rejects.toBeInstanceOf(ETagMismatchError);
    } else {
      await run.store.delete({ key, etag: foreignEtag(run) });
    }
    await run.store.set({ key, value: Buffer.from('1') });
    await expect(run.store.set({ key, value: Buffer.from('2'), etag: foreignEtag(run) })).rejects.toBeInstanceOf(ETagMismatchError);
    await expect(run.store.set({ key, value: Buffer.from('2'), options: { concurrency: 'first-write' } })).rejects.toBeInstanceOf(
      ETagMismatchError,
    );
    expect((await run.store.get({ key }))?.value.toString()).toBe('1');
  });

  it('never hands out an etag again after a key is deleted and recreated', async () => {
    const key = stored(run.key('store-aba'));
    await run.store.set({ key, value: Buffer.from('1') });
    const first = (await run.store.get({ key }))?.etag ?? '';
    await run.store.delete({ key });
    await run.store.set({ key, value: Buffer.from('2') });
    const second = (await run.store.get({ key }))?.etag;
    expect(second).not.toBe(first);
    await expect(run.store.set({ key, value: Buffer.from('3'), etag: first })).rejects.toBeInstanceOf(ETagMismatchError);
  });

  it('bulk reads only the keys that exist, with their etags', async () => {
    if (!isBulk(run.store)) throw new Error(`${run.driver.label} should implement bulkGet`);
    const a = stored(run.key('store-bulk'));
    const b = stored(run.key('store-bulk'));
    await run.store.set({ key: a, value: Buffer.from('"a"') });
    await run.store.set({ key: b, value: Buffer.from('"b"') });
    const found = await run.store.bulkGet([a, stored('store-bulk-missing'), b]);
    expect([...found.keys()].sort()).toEqual([a, b].sort());
    expect(found.get(a)?.etag).toBe((await run.store.get({ key: a }))?.etag);
    expect(found.get(b)?.value.toString()).toBe('"b"');
    expect((await run.store.bulkGet([])).size).toBe(0);
  });

  it('applies transaction operations on one key in order', async () => {
    if (!isTransactional(run.store)) throw new Error(`${run.driver.label} should be transactional`);
    const key = stored(run.key('store-tx-order'));
    await run.store.multi([
      { type: 'upsert', request: { key, value: Buffer.from('1') } },
      { type: 'upsert', request: { key, value: Buffer.from('2') } },
    ]);
    expect((await run.store.get({ key }))?.value.toString()).toBe('2');
    await run.store.multi([
      { type: 'delete', request: { key } },
      { type: 'upsert', request: { key, value: Buffer.from('3'), options: { concurrency: 'first-write' } } },
    ]);
    expect((await run.store.get({ key }))?.value.toString()).toBe('3');
    await run.store.multi([
      { type: 'upsert', request: { key, value: Buffer.from('4') } },
      { type: 'delete', request: { key } },
    ]);
    expect(await run.store.get({ key })).toBeUndefined();
  });
}
