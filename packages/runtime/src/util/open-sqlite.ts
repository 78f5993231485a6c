/**
 * Opening an embedded SQLite database the way every Weft store does: WAL, a busy timeout, normal sync.
 *
 * Several processes open the same files (every `weft run` in one directory shares `./.weft`), often at
 * the same moment. Switching a new file to WAL takes an exclusive lock, and SQLite does not call the
 * busy handler for it: a process that meets another one's lock there gets `database is locked` at
 * once, however long its busy timeout. So the switch is retried here, as the busy handler would, for up
 * to the busy timeout.
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { isBusy } from './sqlite-busy.js';

/** Longest pause between two attempts to switch to WAL. */
const MAX_PAUSE_MS = 20;

/** Opens (creating its directory and file if needed) a SQLite database in WAL mode. */
export function openSqlite(filePath: string, busyTimeoutMs: number): Database.Database {
  if (filePath !== ':memory:') fs.mkdirSync(path.dirname(filePath), { recursive: true });
  const db = new Database(filePath, { timeout: busyTimeoutMs });
  try {
    if (filePath !== ':memory:') switchToWal(db, filePath, busyTimeoutMs);
    // WAL + NORMAL is durable against process crashes; only an OS crash can lose the last commits.
    db.pragma('synchronous = NORMAL');
  } catch (err) {
    db.close();
    throw err;
  }
  return db;
}

function switchToWal(db: Database.Database, filePath: string, busyTimeoutMs: number): void {
  const deadline = Date.now() + busyTimeoutMs;
  for (let pauseMs = 1; ; pauseMs = Math.min(pauseMs * 2, MAX_PAUSE_MS)) {
    let locked: unknown;
    try {
      // Answers the mode in force: the old one when the switch could not be made.
      if (db.pragma('journal_mode = WAL', { simple: true }) === 'wal') return;
    } catch (err) {
      if (!isBusy(err)) throw err;
      locked = err;
    }
    if (Date.now() >= deadline) {
      const reason = locked ? (locked as Error).message : 'the switch was refused';
      throw new Error(`could not open ${filePath} in WAL mode within ${busyTimeoutMs} ms: another process holds a lock on it (${reason})`);
    }
    // A synchronous pause, as SQLite's own busy handler makes: opening happens once, at start-up.
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, pauseMs);
  }
}
