import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { ev } from './history.js';
import { SqliteWorkflowBackend } from './sqlite-backend.js';
import type { NewInstance } from './backend.js';

function newInstance(instanceId: string): NewInstance {
  const now = new Date();
  return {
    instanceId, name: 'wf', input: null, executionId: `e-${instanceId}`, createdAt: now, scheduledStartAt: null,
    parentInstanceId: null, parentTaskId: null, startEvent: ev.executionStarted(instanceId, 'wf', null, { executionId: `e-${instanceId}`, at: now }),
  };
}

const dirs: string[] = [];
afterEach(async () => {
  for (const dir of dirs.splice(0)) await fs.rm(dir, { recursive: true, force: true });
});

describe('SQLite workflow store under another connection\'s write lock', () => {
  it('keeps the event loop running while another connection holds the write lock, and writes once it is released', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-busy-'));
    dirs.push(dir);
    const file = path.join(dir, 'wf.sqlite');
    const backend = new SqliteWorkflowBackend(file, 'busy', 20_000);
    // Another process's connection, as far as SQLite is concerned: it takes the write lock and holds it.
    const other = new Database(file);
    try {
      other.exec('BEGIN IMMEDIATE');
      const events: string[] = [];
      const write = backend.createInstance(newInstance('a')).then((created) => {
        events.push('written');
        return created;
      });
      // The write is waiting for the lock; a timer callback still runs (the loop is not asleep in SQLite)...
      await new Promise<void>((resolve) => setTimeout(resolve, 1));
      events.push('timer ran');
      // ...and so does I/O, while the lock is still held.
      await fs.stat(file);
      events.push('stat ran');
      expect(events).toEqual(['timer ran', 'stat ran']);
      other.exec('COMMIT');
      expect(await write).toBe(true);
      expect(events).toEqual(['timer ran', 'stat ran', 'written']);
      expect((await backend.getInstance('a'))?.status).toBe('PENDING');
    } finally {
      other.close();
      await backend.close();
    }
  });

  it('gives up with SQLITE_BUSY when the lock is held longer than its busy timeout', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'weft-busy-'));
    dirs.push(dir);
    const file = path.join(dir, 'wf.sqlite');
    const backend = new SqliteWorkflowBackend(file, 'busy', 30);
    const other = new Database(file);
    try {
      other.exec('BEGIN IMMEDIATE');
      await expect(backend.createInstance(newInstance('b'))).rejects.toMatchObject({ code: 'SQLITE_BUSY' });
      other.exec('ROLLBACK');
      expect(await backend.createInstance(newInstance('b'))).toBe(true);
    } finally {
      other.close();
      await backend.close();
    }
  });
});
