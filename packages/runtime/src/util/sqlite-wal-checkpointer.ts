/**
 * WAL checkpoints of an embedded SQLite database (pub/sub, workflow store), off the event loop.
 * SQLite's automatic checkpoint runs inside the commit that crosses its threshold: on the event loop,
 * copying about a thousand pages and syncing the file while every request waits (stalls of 10–16 ms
 * were measured on both stores). Here a worker thread with its own connection runs a `PASSIVE`
 * checkpoint whenever the owner reports writes (at most every `intervalMs`); a passive checkpoint
 * never blocks writers or readers, so commits only append to the WAL. Once everything is copied and
 * the WAL is long, a `RESTART` lets the next writer start it from its beginning instead of growing it.
 *
 * The worker starts with the first write, so a sidecar that never writes there pays no thread for it.
 * The owner's connection keeps a much higher automatic threshold as a safety net, and goes back to
 * SQLite's default if the worker cannot run.
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

/** The worker: one connection, one checkpoint per message. CommonJS, as eval workers are. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.filePath, { timeout: 0 });
const checkpoint = () => {
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    if (r && r.log > workerData.restartFrames && r.checkpointed === r.log) db.pragma('wal_checkpoint(RESTART)');
  } catch (err) {
    parentPort.postMessage(String(err && err.message));
  }
};
parentPort.on('message', (m) => {
  if (m === 'close') { checkpoint(); db.close(); parentPort.close(); return; }
  checkpoint();
});
`;

/** Runs checkpoints of one database file in a worker thread. */
export class WalCheckpointer {
  private worker: Worker | undefined;
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

  /** Stops the worker after a last checkpoint (the owner's connection checkpoints on close as usual). */
  async close(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    // Hold the event loop until the worker is gone: when a failed start-up closes everything else, an
    // unref'd worker and timer would let the process exit (with code 0) in the middle of this await.
    worker.ref();
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('close');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000)))]);
    clearTimeout(timer);
    await worker.terminate();
  }

  private checkpoint(): void {
    this.timer = undefined;
    this.dirty = false;
    if (this.failed) return;
    try {
      (this.worker ??= this.start()).postMessage('checkpoint');
    } catch (err) {
      this.fallBack(err);
    }
  }

  private start(): Worker {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { module: createRequire(import.meta.url).resolve('better-sqlite3'), filePath: this.filePath, restartFrames: RESTART_FRAMES },
    });
    worker.unref();
    // Busy is normal under load: the next checkpoint copies what this one could not.
    worker.on('message', (message: string) => this.logger.debug(`${this.what} WAL checkpoint failed; the next one retries`, { error: message }));
    worker.on('error', (err) => this.fallBack(err));
    worker.on('exit', () => {
      if (this.worker === worker) this.fallBack(new Error('the checkpoint worker exited'));
    });
    return worker;
  }

  /** The worker cannot run: SQLite's own automatic checkpoints take over again. */
  private fallBack(err: unknown): void {
    if (this.failed) return;
    this.failed = true;
    this.worker = undefined;
    this.logger.warn(`${this.what} WAL checkpoints run on the event loop again: the checkpoint worker failed`, { error: (err as Error).message });
    try {
      this.db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
    } catch {
      // The database is closing.
    }
  }
}
