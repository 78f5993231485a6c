/** The shared WAL checkpoint worker: every database it serves is checkpointed, and closing one leaves the others served. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../logging/logger.js';
import { WalCheckpointer } from './sqlite-wal-checkpointer.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A WAL database with a table, and its checkpointer. */
function open(name: string): { db: Database.Database; file: string; checkpointer: WalCheckpointer } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-wal-'));
  dirs.push(dir);
  const file = path.join(dir, `${name}.sqlite`);
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.exec('CREATE TABLE t (v TEXT)');
  return { db, file, checkpointer: new WalCheckpointer(db, file, silentLogger(), name, 10) };
}

/** Writes enough pages to show up in the database file once checkpointed, and reports them. */
function write(target: ReturnType<typeof open>): void {
  const insert = target.db.prepare('INSERT INTO t VALUES (?)');
  for (let i = 0; i < 200; i++) insert.run('x'.repeat(1000));
  target.checkpointer.wrote();
}

async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('WalCheckpointer', () => {
  it('checkpoints several databases from one worker, and keeps serving the rest after one closes', async () => {
    const a = open('a');
    const b = open('b');
    const sizeA = fs.statSync(a.file).size;
    const sizeB = fs.statSync(b.file).size;
    // The automatic checkpoint is far away: only the worker moves pages into the database files.
    expect(a.db.pragma('wal_autocheckpoint', { simple: true })).toBeGreaterThan(1000);
    write(a);
    write(b);
    await until(() => fs.statSync(a.file).size > sizeA && fs.statSync(b.file).size > sizeB, 'both files to be checkpointed');

    await a.checkpointer.close();
    a.db.close();
    const grownB = fs.statSync(b.file).size;
    write(b);
    await until(() => fs.statSync(b.file).size > grownB, 'the other file to be checkpointed after the first closed');

    await b.checkpointer.close();
    b.db.close();
  });
});
