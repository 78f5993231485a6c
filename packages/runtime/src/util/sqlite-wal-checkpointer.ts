/**
 * WAL checkpoints of the embedded SQLite databases (state, pub/sub, workflow store), off the event loop.
 * SQLite's automatic checkpoint runs inside the commit that crosses its threshold: on the event loop,
 * copying about a thousand pages and syncing the file while every request waits (stalls of 10–40 ms
 * were measured on all three stores). Here a worker thread with its own connection per file runs a
 * `PASSIVE` checkpoint whenever an owner reports writes (at most every `intervalMs`); a passive
 * checkpoint never blocks writers or readers, so commits only append to the WAL. Once everything is
 * copied and the WAL is long, a `RESTART` lets the next writer start it from its beginning instead of
 * growing it.
 *
 * One worker serves every database of the process (a thread costs 5–10 MB resident), started with the
 * first write to any of them and stopped when the last one closes, so a sidecar that never writes pays
 * no thread. Each owner's connection keeps a much higher automatic threshold as a safety net, and goes
 * back to SQLite's default if the worker cannot run.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';
import type { Logger } from '../logging/logger.js';

/** Pages the owner's connection lets the WAL grow to before it checkpoints itself (safety net). */
export const SAFETY_NET_PAGES = 10_000;

/** SQLite's default `wal_autocheckpoint`. */
const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;

/** WAL frames above which a fully copied WAL is restarted. */
const RESTART_FRAMES = 4000;

/** A message to the worker: checkpoint file `id` (opening it first), or checkpoint and close it. */
interface ToWorker {
  op: 'checkpoint' | 'close';
  id: number;
  filePath: string;
}

/** A message from the worker: a failed checkpoint, or a file closed. */
interface FromWorker {
  op: 'failed' | 'closed';
  id: number;
  error?: string;
}

/** The worker: one connection per file, one checkpoint per message. CommonJS, as eval workers are. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const open = new Map();
const checkpoint = (id, filePath) => {
  try {
    let db = open.get(id);
    if (!db) open.set(id, (db = new Database(filePath, { timeout: 0 })));
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    if (r && r.log > workerData.restartFrames && r.checkpointed === r.log) db.pragma('wal_checkpoint(RESTART)');
  } catch (err) {
    parentPort.postMessage({ op: 'failed', id, error: String(err && err.message) });
  }
};
parentPort.on('message', (m) => {
  if (m.op === 'checkpoint') return checkpoint(m.id, m.filePath);
  if (open.has(m.id)) checkpoint(m.id, m.filePath);
  try { open.get(m.id)?.close(); } catch {}
  open.delete(m.id);
  parentPort.postMessage({ op: 'closed', id: m.id });
});
`;

/** The process's one checkpoint worker, shared by every {@link WalCheckpointer} that has written. */
class SharedWorker {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly members = new Map<number, WalCheckpointer>();
  private readonly closing = new Map<number, () => void>();

  /** Registers a checkpointer; its id names its file to the worker. */
  join(member: WalCheckpointer): number {
    const id = this.nextId++;
    this.members.set(id, member);
    return id;
  }

  send(message: ToWorker): void {
    (this.worker ??= this.start()).postMessage(message);
  }

  /** Checkpoints and closes the member's file in the worker; stops the worker when no member is left. */
  async leave(id: number, filePath: string): Promise<void> {
    this.members.delete(id);
    const worker = this.worker;
    if (!worker) return;
    // Hold the event loop until the worker answers: when a failed start-up closes everything else, an
    // unref'd worker would let the process exit (with code 0) in the middle of this await.
    worker.ref();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => {
        this.closing.set(id, resolve);
        worker.postMessage({ op: 'close', id, filePath } satisfies ToWorker);
      }),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000))),
    ]);
    clearTimeout(timer);
    this.closing.delete(id);
    if (this.worker !== worker) return;
    if (this.members.size === 0) {
      this.worker = undefined;
      await worker.terminate();
    } else if (this.closing.size === 0) {
      worker.unref();
    }
  }

  private start(): Worker {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { module: createRequire(import.meta.url).resolve('better-sqlite3'), restartFrames: RESTART_FRAMES },
    });
    worker.unref();
    worker.on('message', (m: FromWorker) => {
      if (m.op === 'closed') this.closing.get(m.id)?.();
      else this.members.get(m.id)?.checkpointFailed(m.error ?? 'unknown error');
    });
    worker.on('error', (err) => this.lost(worker, err));
    worker.on('exit', () => this.lost(worker, new Error('the checkpoint worker exited')));
    return worker;
  }

  /** The worker died: every member falls back to SQLite's own checkpoints. */
  private lost(worker: Worker, err: unknown): void {
    if (this.worker !== worker) return;
    this.worker = undefined;
    for (const member of this.members.values()) member.fallBack(err);
    for (const resolve of this.closing.values()) resolve();
  }
}

let shared: SharedWorker | undefined;

/** Runs checkpoints of one database file in the process's checkpoint worker. */
export class WalCheckpointer {
  private readonly pool = (shared ??= new SharedWorker());
  private id: number | undefined;
  private failed = false;
  private dirty = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Database.Database,
    private readonly filePath: string,
    private readonly logger: Logger,
    /** Names the database in log lines ("pub/sub", "workflow store"). */
    private readonly what: string,
    /** Shortest time between two checkpoints. @default 200 */
    private readonly intervalMs = 200,
  ) {
    if (filePath === ':memory:') this.failed = true;
    else db.pragma(`wal_autocheckpoint = ${SAFETY_NET_PAGES}`);
  }

  /** Notes that the owner committed; a checkpoint follows within `intervalMs`. */
  wrote(): void {
    if (this.failed || this.dirty) return;
    this.dirty = true;
    this.timer ??= setTimeout(() => this.checkpoint(), this.intervalMs);
    this.timer.unref();
  }

  /** Runs a last checkpoint and closes this file's connection in the worker (the owner's connection checkpoints on close as usual). */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.failed = true;
    const id = this.id;
    this.id = undefined;
    if (id !== undefined) await this.pool.leave(id, this.filePath);
  }

  /** Called by the worker when a checkpoint of this file failed. */
  checkpointFailed(error: string): void {
    // Busy is normal under load: the next checkpoint copies what this one could not.
    this.logger.debug(`${this.what} WAL checkpoint failed; the next one retries`, { error });
  }

  /** The worker cannot run: SQLite's own automatic checkpoints take over again. */
  fallBack(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.logger.warn(`${this.what} WAL checkpoints run on the event loop again: the checkpoint worker failed`, { error: (err as Error).message });
    try {
      this.db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
    } catch {
      // The database is closing.
    }
  }

  private checkpoint(): void {
    this.timer = undefined;
    this.dirty = false;
    if (this.failed) return;
    try {
      this.id ??= this.pool.join(this);
      this.pool.send({ op: 'checkpoint', id: this.id, filePath: this.filePath });
    } catch (err) {
      this.fallBack(err);
    }
  }
}
