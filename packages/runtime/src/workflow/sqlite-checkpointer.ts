/**
 * WAL checkpoints of a SQLite workflow store, in a worker thread. SQLite's automatic checkpoint runs
 * inside the commit that crosses the WAL threshold, on the event loop of the sidecar (stalls of up to
 * 16 ms were measured); with `wal_autocheckpoint = 0` on the sidecar's connection, a worker thread
 * with its own connection runs PASSIVE checkpoints instead: they never block writers or readers, and
 * any frames they cannot copy yet are copied by the next one.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Logger } from '../logging/logger.js';

const require = createRequire(import.meta.url);

// CommonJS, evaluated in the worker: one connection, a passive checkpoint per tick.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file, { timeout: 0 });
let busy = false;
const tick = () => {
  if (busy) return;
  busy = true;
  try {
    const [r] = db.pragma('wal_checkpoint(PASSIVE)');
    if (r && r.log > workerData.restartFrames && r.checkpointed === r.log) {
      // Everything copied: let the next writer start the WAL from its beginning instead of growing it.
      db.pragma('wal_checkpoint(RESTART)');
    }
  } catch (err) {
    parentPort.postMessage({ error: String(err) });
  } finally {
    busy = false;
  }
};
const timer = setInterval(tick, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m === 'stop') {
    clearInterval(timer);
    tick();
    db.close();
    parentPort.close();
  }
});
`;

/** A running checkpointer; {@link SqliteCheckpointer.stop} ends it with a last checkpoint. */
export class SqliteCheckpointer {
  private readonly worker: Worker;
  private reported = false;

  constructor(file: string, logger: Logger, intervalMs = 250) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { file, module: require.resolve('better-sqlite3'), intervalMs, restartFrames: 4000 },
    });
    this.worker.unref();
    this.worker.on('message', (m: { error?: string }) => {
      // Busy is normal under load (a later tick succeeds); anything else is worth one warning.
      if (m.error && !/busy|locked/i.test(m.error) && !this.reported) {
        this.reported = true;
        logger.warn('workflow store checkpoint failed', { error: m.error });
      }
    });
    this.worker.on('error', (err) => logger.warn('workflow store checkpointer stopped', { error: String(err) }));
  }

  async stop(): Promise<void> {
    // Hold the event loop until the worker is gone: when a failed start-up closes everything else,
    // an unref'd worker and timer would let the process exit (with code 0) in the middle of this await.
    this.worker.ref();
    const exited = new Promise<void>((resolve) => this.worker.once('exit', () => resolve()));
    this.worker.postMessage('stop');
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, 2000)))]);
    clearTimeout(timer);
    await this.worker.terminate();
  }
}
