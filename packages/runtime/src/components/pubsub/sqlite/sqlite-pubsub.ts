/**
 * `pubsub.sqlite`: the embedded durable default (`<dataDir>/pubsub.sqlite`, WAL). Several Weft
 * processes on one machine share the file. Every consumer group (the app id) keeps a cursor per topic
 * and a table of claimed messages with a lease: claims, acks and lease renewals run in short
 * `BEGIN IMMEDIATE` transactions, so two instances of one app never claim the same message, and a
 * message whose consumer died becomes visible again when its lease runs out. A claim takes a batch
 * (up to the subscription's free slots) in one transaction and one read of the rows.
 *
 * Lease owners are named `host:pid:uuid`, so a consumer starting on the same host releases at once
 * the leases of a process that no longer exists (a crashed or killed sidecar) instead of waiting for
 * them to time out.
 *
 * Everything issued in the same turn of the event loop (publishes, acks, give-backs, renewals and the
 * consumers' claims) shares one transaction (group commit): each caller still resolves only after its
 * work committed, so a 204 on publish still means the event is in the WAL, and the acks of delivered
 * messages ride in the transaction that claims the next ones. The batch runs without a savepoint per
 * write; only when a write fails is it run again with one savepoint each, so that the failing write
 * fails alone. WAL checkpoints run in a worker thread ({@link WalCheckpointer}), not inside a commit
 * on the event loop.
 *
 * A group created by its first subscription starts at the oldest retained message of the topic (as
 * Redis consumer groups created at `0`), so events published before the subscriber first ran reach it.
 */
import { EventEmitter } from 'node:events';
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type Database from 'better-sqlite3';
import type { Logger } from '../../../logging/logger.js';
import type { ComponentContext } from '../../component.js';
import type { MetadataProperties } from '../../metadata.js';
import { openSqlite } from '../../../util/open-sqlite.js';
import type { ClaimedMessage } from '../pull-consumer.js';
import { PullConsumer } from '../pull-consumer.js';
import type {
  BulkPublishEntry,
  BulkPublisher,
  MessageHandler,
  PubSubFeature,
  PublishRequest,
  SubscribeRequest,
  Subscription,
} from '../store.js';
import type { SqlitePubSubMetadata } from './metadata.js';
import { parseSqlitePubSubMetadata } from './metadata.js';
import { WalCheckpointer } from '../../../util/sqlite-wal-checkpointer.js';

/** One piece of work of a group commit: a write, or a consumer's claim (whose rows it resolves with). */
interface BatchItem {
  run: () => unknown;
  resolve: (result: never) => void;
  reject: (err: unknown) => void;
  /** A claim: it wrote only if it returned rows. */
  claim?: boolean;
  /** Set by the run: what `run` returned, or the error it threw (isolated runs only). */
  result?: unknown;
  error?: unknown;
}

interface MessageRow {
  seq: number;
  topic: string;
  data: Buffer;
  content_type: string | null;
  metadata: string;
}

/** SQLite-backed durable pub/sub. */
export class SqlitePubSub implements BulkPublisher {
  private db: Database.Database | undefined;
  private meta!: SqlitePubSubMetadata;
  private logger!: Logger;
  private readonly published = new EventEmitter();
  private readonly consumers = new Set<PullConsumer>();
  private pruneTimer: NodeJS.Timeout | undefined;
  private checkpointer: WalCheckpointer | undefined;
  private insert!: (entries: readonly PublishRequest[]) => void;
  /** Runs a batch in one transaction; throws (having rolled it back) when any of its work throws. */
  private runBatch!: (batch: readonly BatchItem[]) => void;
  /** Runs a batch in one transaction, each item in its own savepoint: an item that throws fails alone. */
  private runBatchIsolated!: (batch: readonly BatchItem[]) => void;
  /** Work queued for the next group commit. */
  private batch: BatchItem[] = [];
  /** Claims a consumer's next messages (`redelivered` of them whose lease ran out); runs inside a group commit. */
  private claimRows!: (group: string, topic: string, owner: string, max: number, withExpired: boolean) => { rows: MessageRow[]; redelivered: number };

  async init(props: MetadataProperties, context: ComponentContext): Promise<void> {
    this.meta = parseSqlitePubSubMetadata(props, context.dataDir);
    this.logger = context.logger;
    this.published.setMaxListeners(0);
    const db = openSqlite(this.meta.filePath, this.meta.busyTimeoutMs);
    this.db = db;
    this.checkpointer = new WalCheckpointer(db, this.meta.filePath, this.logger, 'pub/sub');
    const p = this.meta.tablePrefix;
    db.exec(`
      CREATE TABLE IF NOT EXISTS ${p}messages (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, topic TEXT NOT NULL, data BLOB NOT NULL,
        content_type TEXT, metadata TEXT NOT NULL, created_at INTEGER NOT NULL);
      CREATE INDEX IF NOT EXISTS ${p}messages_topic ON ${p}messages (topic, seq);
      CREATE TABLE IF NOT EXISTS ${p}groups (
        grp TEXT NOT NULL, topic TEXT NOT NULL, cursor INTEGER NOT NULL, PRIMARY KEY (grp, topic));
      CREATE TABLE IF NOT EXISTS ${p}pending (
        grp TEXT NOT NULL, topic TEXT NOT NULL, seq INTEGER NOT NULL, lease_until INTEGER NOT NULL,
        owner TEXT NOT NULL, attempts INTEGER NOT NULL, PRIMARY KEY (grp, topic, seq)) WITHOUT ROWID;`);
    // (WITHOUT ROWID: a pending row is one b-tree entry, not a row plus its primary-key index; files
    // made before keep their rowid table, which reads and writes the same.)
    this.runBatch = db.transaction((batch: readonly BatchItem[]) => {
      for (const item of batch) item.result = item.run();
    }).immediate as (batch: readonly BatchItem[]) => void;
    const savepoint = db.transaction((item: BatchItem) => (item.result = item.run()));
    this.runBatchIsolated = db.transaction((batch: readonly BatchItem[]) => {
      for (const item of batch) {
        try {
          savepoint(item); // nested: a savepoint, so a failing item leaves the others intact
        } catch (err) {
          item.error = err ?? new Error('write failed');
        }
      }
    }).immediate as (batch: readonly BatchItem[]) => void;
    const insertOne = db.prepare<[string, Buffer, string | null, string, number]>(
      `INSERT INTO ${p}messages (topic, data, content_type, metadata, created_at) VALUES (?, ?, ?, ?, ?)`,
    );
    // Runs inside a batch (publish) or its own transaction (bulk publish: all or nothing).
    this.insert = (entries: readonly PublishRequest[]) => {
      const now = Date.now();
      for (const e of entries) insertOne.run(e.topic, e.data, e.contentType ?? null, JSON.stringify(e.metadata), now);
    };

    const expired = db.prepare<[string, string, number, number], { seq: number }>(
      `SELECT seq FROM ${p}pending WHERE grp = ? AND topic = ? AND lease_until <= ? ORDER BY seq LIMIT ?`,
    );
    const relet = db.prepare<[number, string, string, string, number]>(
      `UPDATE ${p}pending SET lease_until = ?, owner = ?, attempts = attempts + 1 WHERE grp = ? AND topic = ? AND seq = ?`,
    );
    // New messages come with their rows in one query past the group's cursor; the batch's pending rows
    // are written by one statement over the same range (it is stable: the transaction holds the lock).
    const fresh = db.prepare<[string, string, string, number], MessageRow>(
      `SELECT seq, topic, data, content_type, metadata FROM ${p}messages
         WHERE topic = ? AND seq > (SELECT cursor FROM ${p}groups WHERE grp = ? AND topic = ?) ORDER BY seq LIMIT ?`,
    );
    const addPending = db.prepare<[string, string, number, string, string, number, number]>(
      `INSERT OR REPLACE INTO ${p}pending (grp, topic, seq, lease_until, owner, attempts)
         SELECT ?, ?, seq, ?, ?, 1 FROM ${p}messages WHERE topic = ? AND seq >= ? AND seq <= ?`,
    );
    const moveCursor = db.prepare<[number, string, string]>(`UPDATE ${p}groups SET cursor = ? WHERE grp = ? AND topic = ?`);
    const load = db.prepare<[number], MessageRow>(`SELECT seq, topic, data, content_type, metadata FROM ${p}messages WHERE seq = ?`);
    const dropPending = db.prepare<[string, string, number]>(`DELETE FROM ${p}pending WHERE grp = ? AND topic = ? AND seq = ?`);
    this.claimRows = (group: string, topic: string, owner: string, max: number, withExpired: boolean) => {
      const now = Date.now();
      const leaseUntil = now + this.meta.processingTimeoutMs;
      const rows: MessageRow[] = [];
      // Redeliveries first (leases run out, messages given back), then new messages past the cursor.
      if (withExpired) {
        for (const { seq } of expired.all(group, topic, now, max)) {
          relet.run(leaseUntil, owner, group, topic, seq);
          const row = load.get(seq);
          if (row) rows.push(row);
          else dropPending.run(group, topic, seq); // pruned by retention while pending
        }
      }
      const redelivered = rows.length;
      if (rows.length < max) {
        const next = fresh.all(topic, group, topic, max - rows.length);
        if (next.length > 0) {
          const first = (next[0] as MessageRow).seq;
          const last = (next[next.length - 1] as MessageRow).seq;
          addPending.run(group, topic, leaseUntil, owner, topic, first, last);
          moveCursor.run(last, group, topic);
          rows.push(...next);
        }
      }
      return { rows, redelivered };
    };

    this.pruneTimer = setInterval(() => this.prune(), 60_000);
    this.pruneTimer.unref();
  }

  features(): readonly PubSubFeature[] {
    return ['BULK_PUBLISH', 'ORDERED'];
  }

  async publish(request: PublishRequest): Promise<void> {
    await this.write(() => this.insert([request]));
    this.published.emit(request.topic);
  }

  async bulkPublish(entries: readonly BulkPublishEntry[]): Promise<{ entryId: string; error: string }[]> {
    // One transaction: all entries are stored or none.
    try {
      await this.write(() => this.insert(entries));
    } catch (err) {
      return entries.map((e) => ({ entryId: e.entryId, error: (err as Error).message }));
    }
    for (const topic of new Set(entries.map((e) => e.topic))) this.published.emit(topic);
    return [];
  }

  async subscribe(request: SubscribeRequest, handler: MessageHandler): Promise<Subscription> {
    const db = this.requireDb();
    const p = this.meta.tablePrefix;
    db.prepare(`INSERT OR IGNORE INTO ${p}groups (grp, topic, cursor) VALUES (?, ?, 0)`).run(request.group, request.topic);
    const owner = `${os.hostname()}:${process.pid}:${randomUUID()}`;
    this.releaseDeadOwners(request.group, request.topic);
    const ackOne = db.prepare<[string, string, number]>(`DELETE FROM ${p}pending WHERE grp = ? AND topic = ? AND seq = ?`);
    const ackMany = db.prepare<[string, string, string]>(
      `DELETE FROM ${p}pending WHERE grp = ? AND topic = ? AND seq IN (SELECT value FROM json_each(?))`,
    );
    const giveBack = db.prepare<[number, string, string, number, string]>(
      `UPDATE ${p}pending SET lease_until = ? WHERE grp = ? AND topic = ? AND seq = ? AND owner = ?`,
    );
    const renew = db.prepare<[number, string, string, number, string]>(
      `UPDATE ${p}pending SET lease_until = ? WHERE grp = ? AND topic = ? AND seq = ? AND owner = ?`,
    );
    const { group, topic } = request;
    const seqOf = new WeakMap<ClaimedMessage, number>();
    // The acks of one turn are one statement in the next group commit.
    let acks: number[] = [];
    let acksWritten: Promise<void> | undefined;
    const ack = (seq: number): Promise<void> => {
      acks.push(seq);
      if (!acksWritten) {
        let seqs: number[] | undefined;
        acksWritten = this.write(() => {
          // Taken on the first run (a batch that failed elsewhere runs again with the same seqs).
          if (!seqs) {
            seqs = acks;
            acks = [];
            acksWritten = undefined;
          }
          if (seqs.length === 1) ackOne.run(group, topic, seqs[0] as number);
          else ackMany.run(group, topic, JSON.stringify(seqs));
        });
      }
      return acksWritten;
    };
    // Pending rows whose lease ran out are looked for when a local give-back comes due, and otherwise
    // once per poll interval (other consumers' give-backs and dead consumers' leases), not in every
    // claim: the look is a scan of the group's pending rows.
    let expiryCheckAt = 0;
    const consumer = new PullConsumer({
      handler,
      concurrency: request.concurrency,
      pollIntervalMs: this.meta.pollIntervalMs,
      logger: this.logger,
      heartbeatMs: Math.max(50, Math.floor(this.meta.processingTimeoutMs / 3)),
      heartbeat: async (inFlight) => {
        const until = Date.now() + this.meta.processingTimeoutMs;
        // One commit for every lease, not one per message.
        await this.write(() => {
          for (const c of inFlight) renew.run(until, group, topic, seqOf.get(c) ?? -1, owner);
        });
      },
      claim: async (max) => {
        // In the next group commit, beside the acks of the messages just delivered.
        const rows = await this.enqueue<MessageRow[]>(() => {
          const now = Date.now();
          const withExpired = now >= expiryCheckAt;
          if (withExpired) expiryCheckAt = now + this.meta.pollIntervalMs;
          const { rows, redelivered } = this.claimRows(group, topic, owner, max, withExpired);
          // Redeliveries that filled the batch may have left more behind: look again next time.
          if (withExpired && redelivered === max) expiryCheckAt = 0;
          return rows;
        }, true);
        return rows.map((row) => {
          const claimed: ClaimedMessage = {
            message: {
              topic: row.topic,
              data: row.data,
              metadata: row.metadata === '{}' ? {} : (JSON.parse(row.metadata) as Record<string, string>),
              ...(row.content_type ? { contentType: row.content_type } : {}),
            },
            ack: () => ack(row.seq),
            retry: () => {
              const due = Date.now() + this.meta.redeliverIntervalMs;
              expiryCheckAt = Math.min(expiryCheckAt, due);
              return this.write(() => void giveBack.run(due, group, topic, row.seq, owner));
            },
          };
          seqOf.set(claimed, row.seq);
          return claimed;
        });
      },
    });
    const onPublish = () => consumer.wake();
    this.published.on(topic, onPublish);
    this.consumers.add(consumer);
    consumer.start();
    return {
      close: async () => {
        this.published.off(topic, onPublish);
        this.consumers.delete(consumer);
        await consumer.close();
      },
    };
  }

  async close(): Promise<void> {
    clearInterval(this.pruneTimer);
    await Promise.all([...this.consumers].map((c) => c.close()));
    this.consumers.clear();
    this.published.removeAllListeners();
    await this.checkpointer?.close();
    this.checkpointer = undefined;
    this.db?.close();
    this.db = undefined;
  }

  /** Deletes messages every group of their topic has acknowledged, and anything past retention. */
  private prune(): void {
    const db = this.db;
    if (!db) return;
    const p = this.meta.tablePrefix;
    try {
      db.prepare(`DELETE FROM ${p}messages WHERE created_at < ?`).run(Date.now() - this.meta.retentionMs);
      db.prepare(
        `DELETE FROM ${p}messages AS m WHERE EXISTS (SELECT 1 FROM ${p}groups g WHERE g.topic = m.topic)
           AND m.seq <= (SELECT MIN(cursor) FROM ${p}groups g WHERE g.topic = m.topic)
           AND NOT EXISTS (SELECT 1 FROM ${p}pending q WHERE q.topic = m.topic AND q.seq = m.seq)`,
      ).run();
    } catch (err) {
      this.logger.debug('pub/sub retention pass failed; will retry', { error: (err as Error).message });
    }
  }

  /** Queues a write for the next group commit (a bulk publish's inserts stay all or nothing). */
  private write(op: () => void): Promise<void> {
    return this.enqueue<void>(op);
  }

  /** Queues work for the next group commit; resolves with what it returned once that committed. */
  private enqueue<T>(run: () => T, claim = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      if (this.batch.length === 0) setImmediate(() => this.flush());
      this.batch.push({ run, resolve: resolve as (result: never) => void, reject, claim });
    });
  }

  private flush(): void {
    const batch = this.batch;
    this.batch = [];
    if (batch.length === 0) return;
    try {
      this.requireDb();
      try {
        this.runBatch(batch);
      } catch {
        // Something failed and the transaction rolled back: run it again, each item alone in a
        // savepoint, so only the failing ones fail.
        for (const item of batch) item.result = undefined;
        this.runBatchIsolated(batch);
      }
      // An empty poll wrote nothing: no checkpoint for it.
      if (batch.some((item) => !item.claim || (item.result as unknown[] | undefined)?.length)) this.checkpointer?.wrote();
    } catch (err) {
      for (const item of batch) item.reject(err);
      return;
    }
    for (const item of batch) {
      if (item.error === undefined) item.resolve(item.result as never);
      else item.reject(item.error);
    }
  }

  /** Makes the leases of dead processes on this host visible again. */
  private releaseDeadOwners(group: string, topic: string): void {
    const db = this.requireDb();
    const p = this.meta.tablePrefix;
    const owners = db.prepare<[string, string], { owner: string }>(`SELECT DISTINCT owner FROM ${p}pending WHERE grp = ? AND topic = ?`).all(group, topic);
    const release = db.prepare<[string, string, string]>(`UPDATE ${p}pending SET lease_until = 0 WHERE grp = ? AND topic = ? AND owner = ?`);
    for (const { owner } of owners) {
      const [host, pid] = owner.split(':');
      if (host === os.hostname() && pid !== undefined && !processAlive(Number(pid))) release.run(group, topic, owner);
    }
  }

  private requireDb(): Database.Database {
    if (!this.db) throw new Error('pubsub.sqlite is not initialised');
    return this.db;
  }
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
