/**
 * Seeds a Weft workflow store with a realistic population for the dashboard benchmark: 100,000
 * instances of seven workflows, spread over the last seven days, in the statuses a production app
 * has (mostly completed, some failed, terminated, running, pending and suspended), each with the
 * history its run would have left: activities with inputs and outputs, timers, raised events, failures,
 * and a few large fan-outs. Events are built with the runtime's own constructors, so the store holds
 * exactly what the engine writes; rows go in with bulk SQL (one transaction for SQLite, batched
 * `unnest` inserts for Postgres). Deterministic: a seeded PRNG, so every run seeds the same store.
 */
import Database from 'better-sqlite3';
import pg from 'pg';
import { ev } from '../../packages/runtime/src/workflow/history.js';
import { PostgresWorkflowBackend } from '../../packages/runtime/src/workflow/postgres-backend.js';
import { SqliteWorkflowBackend } from '../../packages/runtime/src/workflow/sqlite-backend.js';
import type { HistoryEvent, WorkflowStatus } from '../../packages/runtime/src/workflow/types.js';

/** One seeded instance with its history (events as the store keeps them: JSON text). */
export interface SeedInstance {
  instanceId: string;
  name: string;
  status: WorkflowStatus;
  input: string;
  output: string | null;
  failure: string | null;
  customStatus: string | null;
  createdAt: number;
  updatedAt: number;
  history: string[];
}

/** What was seeded, for the benchmark's samples. */
export interface SeedSummary {
  count: number;
  historyEvents: number;
  counts: Record<string, number>;
  names: Record<string, number>;
  /** Instance ids to open in the instance-page samples (a spread of statuses and sizes). */
  sampleIds: string[];
  /** The instance with the longest history (a 100-way fan-out). */
  largestId: string;
  largestEvents: number;
}

/** mulberry32: small, fast and good enough to make a reproducible mix. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function pick<T>(rand: () => number, weighted: readonly (readonly [T, number])[]): T {
  const total = weighted.reduce((a, [, w]) => a + w, 0);
  let r = rand() * total;
  for (const [value, w] of weighted) if ((r -= w) < 0) return value;
  return weighted[weighted.length - 1]![0];
}

/** Workflow names, their share, their activities and what else they do. */
const WORKFLOWS = [
  { name: 'order-fulfilment', share: 35, activities: ['reserve-stock', 'charge-card', 'create-shipment', 'send-confirmation'], timer: false, event: 'warehouse-picked' },
  { name: 'payment', share: 25, activities: ['authorize', 'capture'], timer: false, event: undefined },
  { name: 'invoice', share: 15, activities: ['render-pdf', 'store-pdf', 'email-customer'], timer: true, event: undefined },
  { name: 'shipping', share: 10, activities: ['book-carrier', 'print-label', 'track'], timer: true, event: 'delivered' },
  { name: 'refund', share: 5, activities: ['check-eligibility', 'refund-card', 'notify'], timer: false, event: 'approved' },
  { name: 'nightly-report', share: 5, activities: ['collect', 'aggregate', 'publish'], timer: false, event: undefined },
  { name: 'onboarding', share: 5, activities: ['create-account', 'send-welcome', 'wait-verification', 'enable'], timer: true, event: 'email-verified' },
] as const;

const STATUSES: readonly (readonly [WorkflowStatus, number])[] = [
  ['COMPLETED', 84],
  ['FAILED', 6],
  ['TERMINATED', 3],
  ['RUNNING', 4],
  ['PENDING', 1.5],
  ['SUSPENDED', 1.5],
];

const DAY = 86_400_000;
const json = (v: unknown) => JSON.stringify(v);

/** Builds the population: `count` instances created over the `days` before `now`. */
export function* population(count: number, now: number, days = 7, seed = 17): Generator<SeedInstance> {
  const rand = prng(seed);
  const span = days * DAY;
  for (let i = 0; i < count; i++) {
    const wf = pick(rand, WORKFLOWS.map((w) => [w, w.share] as const));
    let status = pick(rand, STATUSES);
    // Unfinished instances are recent; finished ones anywhere in the week.
    const age = status === 'COMPLETED' || status === 'FAILED' || status === 'TERMINATED' ? rand() * span : rand() * 3_600_000;
    const createdAt = Math.floor(now - age);
    const instanceId = `${wf.name.slice(0, 3)}-${(createdAt % 1e9).toString(36)}-${i.toString(36).padStart(4, '0')}`;
    const order = { orderId: `o-${1000 + i}`, customer: `c-${Math.floor(rand() * 5000)}`, total: Math.round(rand() * 50_000) / 100 };
    const input = json(order);
    // One instance in 500 is a large fan-out (100 parallel activities).
    const fanOut = i % 500 === 250 ? 100 : 0;
    const at = (ms: number) => new Date(createdAt + ms);
    let t = 0;
    const events: HistoryEvent[] = [ev.orchestratorStarted(at(0)), ev.executionStarted(instanceId, wf.name, input, { executionId: `x-${instanceId}`, at: at(0) })];
    if (status === 'PENDING') {
      events.length = 0; // Not started yet: only the start event in the inbox, no history.
    }
    let taskId = 0;
    let failedAt: { name: string; message: string } | undefined;
    const steps = status === 'PENDING' ? [] : fanOut > 0 ? [] : [...wf.activities];
    // Unfinished or terminated instances stopped part way.
    const stopAfter = status === 'RUNNING' || status === 'SUSPENDED' || status === 'TERMINATED' ? Math.floor(rand() * steps.length) : steps.length;
    for (let s = 0; s < steps.length; s++) {
      if (s >= stopAfter) break;
      const name = steps[s]!;
      const id = taskId++;
      t += 5 + Math.floor(rand() * 40);
      events.push(ev.taskScheduled(id, name, json({ ...order, step: name }), at(t)));
      t += 20 + Math.floor(rand() * (status === 'FAILED' ? 3000 : 800));
      events.push(ev.orchestratorStarted(at(t)));
      if (status === 'FAILED' && s === stopAfter - 1) {
        failedAt = { name, message: `${name}: upstream answered 503 Service Unavailable` };
        events.push(ev.taskFailed(id, { errorType: 'Error', errorMessage: failedAt.message, stackTrace: { value: `Error: ${failedAt.message}\n    at ${name} (activities.js:42:11)` } }, at(t)));
        break;
      }
      events.push(ev.taskCompleted(id, json({ ok: true, step: name, ref: `${name}-${i}` }), at(t)));
      if (wf.timer && s === 0) {
        const id2 = taskId++;
        const fireAt = at(t + 30_000);
        events.push(ev.timerCreated(id2, fireAt, at(t)));
        t += 30_000;
        events.push(ev.orchestratorStarted(at(t)), ev.timerFired(id2, fireAt, at(t)));
      }
      if (wf.event && s === 1) {
        t += 1000 + Math.floor(rand() * 60_000);
        events.push(ev.orchestratorStarted(at(t)), ev.eventRaised(wf.event, json({ by: 'ops', at: new Date(createdAt + t).toISOString() }), at(t)));
      }
    }
    for (let k = 0; k < fanOut; k++) events.push(ev.taskScheduled(taskId++, 'render-page', json({ page: k }), at(t + 5)));
    if (fanOut > 0) {
      t += 2000;
      events.push(ev.orchestratorStarted(at(t)));
      for (let k = 0; k < fanOut; k++) events.push(ev.taskCompleted(k, json({ page: k, bytes: 1000 + k }), at(t)));
      if (status === 'PENDING') status = 'COMPLETED';
    }
    let output: string | null = null;
    let failure: string | null = null;
    t += 5;
    if (status === 'COMPLETED') {
      output = json({ ok: true, orderId: order.orderId });
      events.push(ev.executionCompleted('COMPLETED', output, null, at(t)));
    } else if (status === 'FAILED') {
      const f = { errorType: 'TaskFailedError', errorMessage: `activity ${failedAt?.name ?? 'charge-card'} failed: ${failedAt?.message ?? 'declined'}`, stackTrace: { value: 'TaskFailedError: …\n    at orchestrator (workflow.js:17:5)' } };
      failure = json(f);
      events.push(ev.executionCompleted('FAILED', null, f, at(t)));
    } else if (status === 'TERMINATED') {
      output = json('terminated by ops');
      events.push(ev.executionTerminated(output, at(t)), ev.executionCompleted('TERMINATED', output, null, at(t)));
    }
    yield {
      instanceId,
      name: wf.name,
      status,
      input,
      output,
      failure,
      customStatus: status === 'RUNNING' ? json({ stage: steps[stopAfter] ?? 'waiting' }) : null,
      createdAt,
      updatedAt: status === 'PENDING' ? createdAt : Math.min(now, createdAt + t),
      history: events.map((e) => JSON.stringify(e)),
    };
  }
}

function summarize(): { add(i: SeedInstance): void; done(): SeedSummary } {
  const s: SeedSummary = { count: 0, historyEvents: 0, counts: {}, names: {}, sampleIds: [], largestId: '', largestEvents: 0 };
  return {
    add(i) {
      s.count++;
      s.historyEvents += i.history.length;
      s.counts[i.status] = (s.counts[i.status] ?? 0) + 1;
      s.names[i.name] = (s.names[i.name] ?? 0) + 1;
      // Every 97th instance: a spread over time, names and statuses.
      if (s.count % 97 === 0) s.sampleIds.push(i.instanceId);
      if (i.history.length > s.largestEvents) {
        s.largestEvents = i.history.length;
        s.largestId = i.instanceId;
      }
    },
    done: () => s,
  };
}

/** Seeds the SQLite store at `file` (creating the schema through the runtime's backend first). */
export async function seedSqlite(file: string, appId: string, count: number, now = Date.now()): Promise<SeedSummary> {
  await new SqliteWorkflowBackend(file, appId).close();
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  const inst = db.prepare(
    `INSERT INTO wf_instances (app_id, instance_id, name, status, execution_id, input, output, custom_status, failure, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
  );
  const hist = db.prepare('INSERT INTO wf_history (app_id, instance_id, seq, event) VALUES (?, ?, ?, ?)');
  const summary = summarize();
  db.transaction(() => {
    for (const i of population(count, now)) {
      inst.run(appId, i.instanceId, i.name, i.status, `x-${i.instanceId}`, i.input, i.output, i.customStatus, i.failure, i.createdAt, i.updatedAt);
      i.history.forEach((e, k) => hist.run(appId, i.instanceId, k + 1, e));
      summary.add(i);
    }
  })();
  db.exec('ANALYZE');
  db.close();
  return summary.done();
}

/** Seeds the Postgres store at `url` in batches; removes the app's earlier rows first. */
export async function seedPostgres(url: string, appId: string, count: number, now = Date.now()): Promise<SeedSummary> {
  await (await PostgresWorkflowBackend.open(url, appId)).close();
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const summary = summarize();
  try {
    for (const t of ['weft_wf_instances', 'weft_wf_history', 'weft_wf_inbox', 'weft_wf_activities']) await client.query(`DELETE FROM ${t} WHERE app_id = $1`, [appId]);
    let batch: SeedInstance[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      const col = <K extends keyof SeedInstance>(k: K) => batch.map((i) => i[k]);
      await client.query(
        `INSERT INTO weft_wf_instances (app_id, instance_id, name, status, execution_id, input, output, custom_status, failure, created_at, updated_at)
         SELECT $1, u.id, u.name, u.status, 'x-' || u.id, u.input, u.output, u.cs, u.failure, u.created, u.updated
         FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[], $9::bigint[], $10::bigint[])
           AS u(id, name, status, input, output, cs, failure, created, updated)`,
        [appId, col('instanceId'), col('name'), col('status'), col('input'), col('output'), col('customStatus'), col('failure'), col('createdAt'), col('updatedAt')],
      );
      const ids: string[] = [];
      const seqs: number[] = [];
      const events: string[] = [];
      for (const i of batch) {
        i.history.forEach((e, k) => {
          ids.push(i.instanceId);
          seqs.push(k + 1);
          events.push(e);
        });
      }
      await client.query(
        `INSERT INTO weft_wf_history (app_id, instance_id, seq, event) SELECT $1, u.id, u.seq, u.event FROM unnest($2::text[], $3::int[], $4::text[]) AS u(id, seq, event)`,
        [appId, ids, seqs, events],
      );
      batch = [];
    };
    for (const i of population(count, now)) {
      batch.push(i);
      summary.add(i);
      if (batch.length === 2000) await flush();
    }
    await flush();
    // What autovacuum does on a live database: statistics and the visibility map (index-only scans).
    await client.query('VACUUM ANALYZE weft_wf_instances');
    await client.query('VACUUM ANALYZE weft_wf_history');
  } finally {
    await client.end();
  }
  return summary.done();
}

/** Removes an app's workflow rows from the Postgres store. */
export async function dropPostgresApp(url: string, appId: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const t of ['weft_wf_instances', 'weft_wf_history', 'weft_wf_inbox', 'weft_wf_activities', 'weft_wf_status_counts', 'weft_wf_status_deltas']) {
      await client.query(`DELETE FROM ${t} WHERE app_id = $1`, [appId]);
    }
  } finally {
    await client.end();
  }
}
