/** `ScheduleJobAlpha1`, `GetJobAlpha1` and `DeleteJobAlpha1` of the Dapr gRPC service over the {@link JobsBlock}. */
import type { JobsBlock } from './jobs-block.js';
import type { FailurePolicy, JobSpec } from '../../jobs/job.js';

interface ProtoDuration {
  seconds?: number;
  nanos?: number;
}

interface ProtoFailurePolicy {
  drop?: object | null;
  constant?: { interval?: ProtoDuration | null; max_retries?: number; _max_retries?: string } | null;
}

interface ProtoJob {
  name: string;
  schedule?: string;
  repeats?: number;
  _repeats?: string;
  due_time?: string;
  ttl?: string;
  data?: { type_url: string; value: Buffer } | null;
  failure_policy?: ProtoFailurePolicy | null;
}

const present = (value: string | undefined): value is string => value !== undefined && value !== '';

function decodePolicy(raw: ProtoFailurePolicy | null | undefined): FailurePolicy | undefined {
  if (!raw) return undefined;
  if (raw.drop) return { kind: 'drop' };
  if (!raw.constant) return undefined;
  const interval = raw.constant.interval;
  const intervalMs = interval ? (interval.seconds ?? 0) * 1000 + (interval.nanos ?? 0) / 1e6 : 0;
  const hasMax = raw.constant._max_retries !== undefined;
  return { kind: 'constant', intervalMs, ...(hasMax ? { maxRetries: raw.constant.max_retries ?? 0 } : {}) };
}

function encodePolicy(policy: FailurePolicy): ProtoFailurePolicy {
  if (policy.kind === 'drop') return { drop: {} };
  const seconds = Math.floor(policy.intervalMs / 1000);
  return {
    constant: {
      interval: { seconds, nanos: Math.round((policy.intervalMs - seconds * 1000) * 1e6) },
      ...(policy.maxRetries !== undefined ? { max_retries: policy.maxRetries } : {}),
    },
  };
}

/** The job RPCs. */
export function jobMethods(jobs: JobsBlock): Record<string, (request: never) => Promise<unknown>> {
  return {
    ScheduleJobAlpha1: async (req: { job?: ProtoJob | null; overwrite?: boolean }) => {
      const job = req.job ?? { name: '' };
      const failurePolicy = decodePolicy(job.failure_policy);
      const spec: JobSpec = {
        name: job.name,
        ...(present(job.schedule) ? { schedule: job.schedule } : {}),
        ...(present(job.due_time) ? { dueTime: job.due_time } : {}),
        ...(present(job.ttl) ? { ttl: job.ttl } : {}),
        ...(job._repeats !== undefined || (job.repeats ?? 0) > 0 ? { repeats: job.repeats ?? 0 } : {}),
        ...(job.data ? { data: { typeUrl: job.data.type_url, value: Buffer.from(job.data.value) } } : {}),
        ...(failurePolicy ? { failurePolicy } : {}),
      };
      await jobs.schedule(spec, req.overwrite === true);
      return {};
    },
    GetJobAlpha1: async (req: { name: string }) => {
      const { spec } = await jobs.get(req.name);
      return {
        job: {
          name: spec.name,
          ...(spec.schedule !== undefined ? { schedule: spec.schedule } : {}),
          ...(spec.repeats !== undefined ? { repeats: spec.repeats } : {}),
          ...(spec.dueTime !== undefined ? { due_time: spec.dueTime } : {}),
          ...(spec.ttl !== undefined ? { ttl: spec.ttl } : {}),
          ...(spec.data ? { data: { type_url: spec.data.typeUrl, value: spec.data.value } } : {}),
          ...(spec.failurePolicy ? { failure_policy: encodePolicy(spec.failurePolicy) } : {}),
        },
      };
    },
    DeleteJobAlpha1: async (req: { name: string }) => {
      await jobs.delete(req.name);
      return {};
    },
  };
}
