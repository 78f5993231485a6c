/**
 * The job scheduler: keeps jobs in a {@link JobStore}, and triggers each due job on the app (HTTP
 * apps: `POST /job/{name}`, `content-type: application/json`, body = the job data; gRPC apps:
 * `OnJobEventAlpha1`). A refused trigger or an unreachable app is retried per the job's failure policy (by default 3 more times,
 * one second apart). Jobs wait, rather than fail, while there is no app to trigger.
 */
import type { AppChannel } from '../appchannel/app-channel.js';
import type { Logger } from '../logging/logger.js';
import { reportDeliveryError } from '../observability/delivery-errors.js';
import type { WeftMetrics } from '../observability/metrics.js';
import { anyToJson } from './any-value.js';
import type { AnyData } from './any-value.js';
import { DEFAULT_FAILURE_POLICY, expired, firstRun, nextRun } from './job.js';
import type { JobRecord, JobSpec } from './job.js';
import { DueLoop } from './due-loop.js';
import type { JobStore } from './job-store.js';

/** What the scheduler needs. */
export interface JobSchedulerOptions {
  appId: string;
  store: JobStore;
  logger: Logger;
  /** Where triggers go when the app can take them, else undefined (jobs then wait). */
  app: () => JobTarget | undefined;
  /** Longest sleep between checks of the store. @default 1000 */
  maxSleepMs?: number;
  /** Counts refused triggers (`weft_delivery_errors_total{block="jobs"}`). */
  metrics?: Pick<WeftMetrics, 'recordDeliveryError'> | undefined;
}

/** How long a claimed trigger stays with this sidecar; longer than the trigger timeout. */
const TRIGGER_LEASE_MS = 45_000;

/** A trigger's outcome: accepted, or refused with the reason (reported once by the scheduler). */
export type TriggerResult = { ok: true } | { ok: false; reason: string };

/** Delivers one trigger to the app. */
export interface JobTarget {
  trigger(name: string, data: AnyData | undefined): Promise<TriggerResult>;
}

/** Triggers for an HTTP app: `POST /job/{name}`, JSON data as the body; 2xx accepts. */
export function httpJobTarget(channel: AppChannel): JobTarget {
  return {
    async trigger(name, data) {
      let body: Buffer;
      if (!data) body = Buffer.alloc(0);
      else {
        const decoded = anyToJson(data);
        // Other Any types (set over gRPC) go to the app as their raw bytes.
        body = decoded ? Buffer.from(JSON.stringify(decoded.json)) : data.value;
      }
      try {
        const res = await channel.call({
          method: 'POST',
          path: `/job/${encodeURIComponent(name)}`,
          headers: { 'content-type': 'application/json' },
          body,
          signal: AbortSignal.timeout(30_000),
        });
        return res.status >= 200 && res.status < 300 ? { ok: true } : { ok: false, reason: `the app answered HTTP ${res.status}` };
      } catch (err) {
        return { ok: false, reason: (err as Error).message };
      }
    },
  };
}

/** Thrown when a job name is taken and `overwrite` is false. */
export class JobExistsError extends Error {
  constructor(name: string) {
    super(`job ${name} already exists`);
    this.name = 'JobExistsError';
  }
}

/** Schedules, lists and triggers the jobs of one app. */
export class JobScheduler {
  private readonly inFlight = new Set<string>();
  private readonly loop: DueLoop;

  constructor(private readonly options: JobSchedulerOptions) {
    this.loop = new DueLoop({
      store: options.store,
      namespace: options.appId,
      runDue: () => this.runDue(),
      ready: () => options.app() !== undefined,
      maxSleepMs: options.maxSleepMs ?? 1000,
      idleSleepMs: options.maxSleepMs ?? 1000,
      logger: options.logger,
      what: 'job scheduler',
    });
  }

  /** Validates and stores a job; throws `InvalidJobError` or {@link JobExistsError}. */
  async schedule(spec: JobSpec, overwrite: boolean): Promise<void> {
    const now = Date.now();
    const record: JobRecord = { spec, createdAt: now, nextRunAt: firstRun(spec, now), count: 0, attempt: 0 };
    if (!(await this.options.store.insert(this.options.appId, record, overwrite))) throw new JobExistsError(spec.name);
    this.wake();
  }

  /** A stored job, if any. */
  get(name: string): Promise<JobRecord | undefined> {
    return this.options.store.get(this.options.appId, name);
  }

  /** Deletes a job (no error when it does not exist). */
  async delete(name: string): Promise<void> {
    await this.options.store.delete(this.options.appId, name);
  }

  /** Starts the trigger loop (jobs already due fire now). */
  start(): void {
    this.wake();
  }

  /** Checks the store now (after the app became available, or a job was added). */
  wake(): void {
    this.loop.wake();
  }

  /** Stops triggering; in-flight triggers finish. */
  close(): Promise<void> {
    return this.loop.close();
  }

  private async runDue(): Promise<void> {
    const target = this.options.app();
    if (!target) return;
    const { store, appId } = this.options;
    const due = await store.claimDue(appId, Date.now(), TRIGGER_LEASE_MS, 100);
    for (const record of due) {
      if (this.inFlight.has(record.spec.name)) continue;
      this.inFlight.add(record.spec.name);
      void this.fire(target, record)
        .catch((err: unknown) => this.options.logger.error(`job ${record.spec.name}: cannot record the trigger`, { error: (err as Error).message }))
        .finally(() => {
          this.inFlight.delete(record.spec.name);
          this.wake();
        });
    }
  }

  private async fire(target: JobTarget, record: JobRecord): Promise<void> {
    const { store, appId, logger } = this.options;
    if (expired(record, Date.now())) {
      await store.remove(appId, record);
      return;
    }
    const result = await target.trigger(record.spec.name, record.spec.data);
    const policy = record.spec.failurePolicy ?? DEFAULT_FAILURE_POLICY;
    const retry = !result.ok && policy.kind === 'constant' && (policy.maxRetries === undefined || record.attempt < policy.maxRetries);
    if (!result.ok) {
      const then = retry ? `attempt ${record.attempt + 1} failed; retrying in ${policy.kind === 'constant' ? policy.intervalMs : 0}ms` : `giving up on this trigger after ${record.attempt + 1} attempts`;
      reportDeliveryError({ logger, metrics: this.options.metrics }, { block: 'jobs', component: record.spec.name, eventId: record.spec.name, then }, result.reason);
    }
    if (retry && policy.kind === 'constant') {
      await store.update(appId, { ...record, attempt: record.attempt + 1, nextRunAt: Date.now() + policy.intervalMs });
      return;
    }
    const done = { ...record, count: record.count + 1, attempt: 0 };
    const next = nextRun(done, Date.now());
    if (next === undefined) await store.remove(appId, done);
    else await store.update(appId, { ...done, nextRunAt: next });
  }
}
