/**
 * Opening a database another process holds a lock on: the switch to WAL (which SQLite does not retry
 * on its own) waits for the lock as the busy timeout says, and names the file when it runs out.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqlite } from './open-sqlite.js';

const betterSqlite = createRequire(import.meta.url).resolve('better-sqlite3');
const dirs: string[] = [];
const holders: ChildProcess[] = [];
afterEach(() => {
  for (const child of holders.splice(0)) child.kill('SIGKILL');
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

function freshFile(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'weft-open-sqlite-'));
  dirs.push(dir);
  return path.join(dir, 'store.sqlite');
}

/**
 * Another process that creates `file` (in SQLite's default rollback mode, as a new file is), takes
 * its write lock, and lets go after `holdMs`; resolves once the lock is held, with the process's exit.
 */
async function holdLock(file: string, holdMs: number): Promise<{ released: Promise<void> }> {
  const source = `
    const Database = require(${JSON.stringify(betterSqlite)});
    const db = new Database(${JSON.stringify(file)});
    db.exec('CREATE TABLE IF NOT EXISTS t (v TEXT)');
    db.exec('BEGIN IMMEDIATE');
    db.exec("INSERT INTO t VALUES ('held')");
    process.stdout.write('locked\\n');
    setTimeout(() => { db.exec('COMMIT'); db.close(); }, ${holdMs});`;
  const child = spawn(process.execPath, ['-e', source], { stdio: ['ignore', 'pipe', 'inherit'] });
  holders.push(child);
  const released = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => d.toString().includes('locked') && resolve());
    child.once('exit', (code) => reject(new Error(`lock holder exited with ${code} before taking the lock`)));
  });
  return { released };
}

describe('openSqlite', () => {
  it('waits for another process to let go of a new file, then opens it in WAL mode', async () => {
    const file = freshFile();
    const holder = await holdLock(file, 300);
    const db = openSqlite(file, 10_000);
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.prepare('SELECT v FROM t').pluck().all()).toEqual(['held']);
    } finally {
      db.close();
    }
    await holder.released;
  });

  it('gives up after the busy timeout with an error that names the file', async () => {
    const file = freshFile();
    await holdLock(file, 60_000);
    expect(() => openSqlite(file, 200)).toThrow(`could not open ${file} in WAL mode within 200 ms`);
  });

  it('opens a file already in WAL mode while another process writes to it', async () => {
    const file = freshFile();
    openSqlite(file, 1000).close();
    await holdLock(file, 60_000);
    const db = openSqlite(file, 1000);
    try {
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    } finally {
      db.close();
    }
  });
});
