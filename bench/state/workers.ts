/** The orchestrator's side of a load worker (`worker.ts`): fork it, send one command at a time. */
import { fork } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { CaseResult, LoadMode, OpName, WorkerCommand, WorkerJob, WorkerReply } from './types.js';

const WORKER = path.join(path.dirname(fileURLToPath(import.meta.url)), 'worker.ts');

/** A forked worker that has connected, filled its keys and warmed up. */
export class LoadWorker {
  private pending: { resolve: (reply: WorkerReply) => void; reject: (err: Error) => void } | undefined;
  private exited = false;

  private constructor(private readonly child: ChildProcess) {
    child.on('message', (reply: WorkerReply) => {
      const pending = this.pending;
      this.pending = undefined;
      pending?.resolve(reply);
    });
    child.once('exit', (code, signal) => {
      this.exited = true;
      const pending = this.pending;
      this.pending = undefined;
      pending?.reject(new Error(`load worker exited (${code ?? signal}) before answering`));
    });
  }

  /** Forks a worker (with this process's loader flags, so it runs TypeScript too) and sets it up. */
  static async start(job: WorkerJob): Promise<LoadWorker> {
    const worker = new LoadWorker(fork(WORKER, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    try {
      await worker.send({ type: 'init', job }, 'ready');
    } catch (err) {
      worker.child.kill();
      throw err;
    }
    return worker;
  }

  /** Measures one op in one load mode. */
  async runCase(op: OpName, mode: LoadMode): Promise<CaseResult> {
    const reply = await this.send({ type: 'case', op, mode }, 'result');
    if (reply.type !== 'result') throw new Error(`unexpected reply ${reply.type}`);
    return reply.result;
  }

  /** Closes the worker's client and lets it exit. */
  async close(): Promise<void> {
    if (this.exited) return;
    await this.send({ type: 'close' }, 'closed').catch(() => this.child.kill());
  }

  private send(command: WorkerCommand, expected: WorkerReply['type']): Promise<WorkerReply> {
    if (this.exited) return Promise.reject(new Error('load worker has exited'));
    return new Promise((resolve, reject) => {
      this.pending = {
        resolve: (reply) => {
          if (reply.type === expected) resolve(reply);
          else reject(new Error(reply.type === 'failed' ? reply.error : `expected ${expected}, got ${reply.type}`));
        },
        reject,
      };
      this.child.send(command);
    });
  }
}
