/**
 * The Jobs API, transport-neutral: validates names, maps scheduler failures to Dapr's
 * `DAPR_SCHEDULER_*` errors and hands jobs to the {@link JobScheduler}.
 */
import { GrpcCode, jobErrors } from '../../errors/index.js';
import { InvalidJobError } from '../../jobs/job.js';
import type { JobRecord, JobSpec } from '../../jobs/job.js';
import { JobExistsError } from '../../jobs/scheduler.js';
import type { JobScheduler } from '../../jobs/scheduler.js';

/** Schedules, reads and deletes jobs of this app. */
export class JobsBlock {
  /** `{appID, namespace}`, attached to every error as Dapr does. */
  readonly errorMetadata: Record<string, string>;

  constructor(
    private readonly scheduler: JobScheduler,
    appId: string,
    namespace: string,
  ) {
    this.errorMetadata = { appID: appId, namespace };
  }

  /** Schedules a job (a checked spec; see `job-codec.ts` for the HTTP body). */
  async schedule(spec: JobSpec, overwrite: boolean): Promise<void> {
    const m = this.errorMetadata;
    if (spec.name === '' || spec.name.includes('|')) throw jobErrors.nameEmpty(m);
    if (spec.schedule === undefined && spec.dueTime === undefined) throw jobErrors.scheduleEmpty(m);
    try {
      await this.scheduler.schedule(spec, overwrite);
    } catch (err) {
      if (err instanceof InvalidJobError) throw jobErrors.schedule(m, GrpcCode.INVALID_ARGUMENT, err.message);
      if (err instanceof JobExistsError) throw jobErrors.schedule(m, GrpcCode.ALREADY_EXISTS, err.message);
      throw jobErrors.schedule(m, GrpcCode.INTERNAL, (err as Error).message);
    }
  }

  /** A job; `DAPR_SCHEDULER_GET_JOB` when it does not exist. */
  async get(name: string): Promise<JobRecord> {
    if (name === '') throw jobErrors.nameEmpty(this.errorMetadata);
    let record: JobRecord | undefined;
    try {
      record = await this.scheduler.get(name);
    } catch (err) {
      throw jobErrors.get(this.errorMetadata, (err as Error).message);
    }
    if (!record) throw jobErrors.get(this.errorMetadata, `job not found: ${name}`);
    return record;
  }

  /** Deletes a job; succeeds for unknown names. */
  async delete(name: string): Promise<void> {
    if (name === '') throw jobErrors.nameEmpty(this.errorMetadata);
    try {
      await this.scheduler.delete(name);
    } catch (err) {
      throw jobErrors.delete(this.errorMetadata, (err as Error).message);
    }
  }
}
