/**
 * Keeps the workflow worker connected to its sidecar. @dapr/dapr 3.18.0's worker reconnects after
 * a stream that ends, but gives up for good when its first stream fails with an error — which is
 * what a sidecar crash (or `kill -9`) looks like. So the worker is supervised: after connecting it
 * leaves a token in the sidecar's metadata (`PUT /v1.0/metadata/{key}`, kept in the sidecar's memory
 * only, in Weft as in Dapr); when the token is gone, the sidecar has restarted, and the worker is
 * replaced by a fresh one. Durable state lives in the sidecar's store, so nothing is lost: the
 * engine hands the new worker whatever was pending.
 */
import { randomUUID } from 'node:crypto';
import { WorkflowRuntime } from '@dapr/dapr';
import type { Logger } from 'pino';

const METADATA_KEY = 'workflow-service-worker';

/** Options of the supervised worker. */
export interface WorkerOptions {
  sdk: ConstructorParameters<typeof WorkflowRuntime>[0];
  daprHttpUrl: string;
  /** Registers workflows and activities on a new runtime. */
  register: (runtime: WorkflowRuntime) => void;
  checkIntervalMs: number;
  logger: Logger;
}

/** A workflow runtime that is replaced whenever its sidecar restarts. */
export class SupervisedWorker {
  private runtime: WorkflowRuntime | undefined;
  private token = '';
  private timer: NodeJS.Timeout | undefined;
  private checking = false;
  private stopped = false;

  constructor(private readonly options: WorkerOptions) {}

  /** Starts the worker and its supervision. */
  async start(): Promise<void> {
    await this.connect();
    this.timer = setInterval(() => void this.check(), this.options.checkIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.runtime?.stop().catch(() => undefined);
  }

  private async connect(): Promise<void> {
    const runtime = new WorkflowRuntime(this.options.sdk);
    this.options.register(runtime);
    await runtime.start();
    this.runtime = runtime;
    this.token = randomUUID();
    await fetch(`${this.options.daprHttpUrl}/v1.0/metadata/${METADATA_KEY}`, { method: 'PUT', body: this.token });
  }

  private async check(): Promise<void> {
    if (this.checking || this.stopped) return;
    this.checking = true;
    try {
      const res = await fetch(`${this.options.daprHttpUrl}/v1.0/metadata`, { signal: AbortSignal.timeout(5000) });
      if (!res.ok) return;
      const { extended = {} } = (await res.json()) as { extended?: Record<string, string> };
      if (extended[METADATA_KEY] === this.token) return;
      this.options.logger.warn('the sidecar restarted; reconnecting the workflow worker');
      const old = this.runtime;
      this.runtime = undefined;
      await old?.stop().catch(() => undefined);
      await this.connect();
      this.options.logger.info('workflow worker reconnected');
    } catch {
      // The sidecar is down (or restarting): look again at the next tick.
    } finally {
      this.checking = false;
    }
  }
}
