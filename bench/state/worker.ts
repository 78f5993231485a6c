/**
 * One load worker: a fresh Node process that the orchestrator forks per (store, target), so the Weft
 * loop and the raw loop run in identical processes and neither inherits the other's heap, JIT state
 * or sockets. It answers commands over IPC: `init` (connect, fill the keys, warm up), `case` (measure
 * one op in one load mode) and `close`. The orchestrator alternates raw and Weft case by case, so
 * both see the machine in the same state.
 */
import type { StateClient } from './clients.js';
import { weftClient } from './clients.js';
import { closedLoop, openLoop } from './load.js';
import { busyBetween, cpuTicks, processCpuMs } from './machine.js';
import type { Operation } from './load.js';
import { rawClient } from './raw/index.js';
import type { LoadMode, LoadSummary, OpName, WorkerCommand, WorkerJob, WorkerReply } from './types.js';

async function makeClient(job: WorkerJob): Promise<StateClient> {
  if (job.target === 'weft') {
    if (!job.weft) throw new Error('a weft job needs the sidecar port');
    return weftClient(job.weft.httpPort, job.weft.storeName, job.settings.valueBytes, job.settings.concurrency);
  }
  if (!job.raw) throw new Error('a raw job needs the store config');
  return rawClient(job.raw, job.settings.valueBytes);
}

/** A set-up worker: its client, its operations, and the job it was given. */
interface Session {
  job: WorkerJob;
  client: StateClient;
  ops: Record<OpName, Operation>;
}

/** Connects, writes every key once (so reads hit), and warms up both operations. */
async function init(job: WorkerJob): Promise<Session> {
  const { settings } = job;
  const client = await makeClient(job);
  const keyOf = (seq: number): string => `${job.keyPrefix}${seq % settings.keys}`;
  const ops: Record<OpName, Operation> = {
    save: (seq) => client.save(keyOf(seq)),
    get: (seq) => client.get(keyOf(seq)),
  };
  for (let i = 0; i < settings.keys; i += settings.concurrency) {
    const batch = Array.from({ length: Math.min(settings.concurrency, settings.keys - i) }, (_, j) => client.save(keyOf(i + j)));
    await Promise.all(batch);
  }
  const half = settings.warmupMs / 2;
  await closedLoop(ops.save, { concurrency: settings.concurrency, durationMs: half });
  await closedLoop(ops.get, { concurrency: settings.concurrency, durationMs: half });
  return { job, client, ops };
}

async function measure(job: WorkerJob, op: Operation, mode: LoadMode): Promise<LoadSummary> {
  const { settings } = job;
  const pid = job.weft?.pid;
  const cpuBefore = pid !== undefined ? processCpuMs(pid) : 0;
  const machineBefore = cpuTicks();
  const summary =
    mode === 'closed'
      ? await closedLoop(op, { concurrency: settings.concurrency, durationMs: settings.durationMs })
      : await openLoop(op, {
          ratePerSec: settings.openRatePerSec,
          maxInFlight: settings.openMaxInFlight,
          durationMs: settings.durationMs,
        });
  summary.machineBusyPercent = Math.round(busyBetween(machineBefore, cpuTicks()) * 100);
  if (pid !== undefined && summary.requests > 0) {
    summary.sidecarCpuUsPerRequest = Math.round(((processCpuMs(pid) - cpuBefore) * 1000) / summary.requests);
  }
  return summary;
}

let session: Session | undefined;

async function handle(command: WorkerCommand): Promise<WorkerReply> {
  switch (command.type) {
    case 'init':
      session = await init(command.job);
      return { type: 'ready' };
    case 'case': {
      if (!session) throw new Error('case before init');
      const summary = await measure(session.job, session.ops[command.op], command.mode);
      return { type: 'result', result: { op: command.op, mode: command.mode, summary } };
    }
    case 'close':
      await session?.client.close();
      session = undefined;
      return { type: 'closed' };
  }
}

process.on('message', (command: WorkerCommand) => {
  handle(command).then(
    (reply) => process.send?.(reply, () => {
      if (reply.type === 'closed') process.disconnect();
    }),
    (err: unknown) => process.send?.({ type: 'failed', error: err instanceof Error ? (err.stack ?? err.message) : String(err) } satisfies WorkerReply),
  );
});
