/**
 * DBOS Transact 5.3.0 (peers.md): a library in this process, its system database on the same
 * Postgres. Imported by name at run time so the repository type-checks without the peers installed.
 */
import { postgresBackends } from '../cpu.js';
import type { BenchEngine, Workload } from '../measure.js';

interface DbosHandle<R> {
  getResult(): Promise<R>;
}
interface DbosApi {
  setConfig(config: Record<string, unknown>): void;
  launch(): Promise<void>;
  shutdown(): Promise<void>;
  registerWorkflow<A extends unknown[], R>(fn: (...args: A) => Promise<R>, config: { name: string }): (...args: A) => Promise<R>;
  runStep<R>(fn: () => Promise<R>, config: { name: string }): Promise<R>;
  startWorkflow<A extends unknown[], R>(fn: (...args: A) => Promise<R>, params?: { workflowID?: string }): (...args: A) => Promise<DbosHandle<R>>;
}

/** Launches DBOS on `postgresUrl`'s server with a fresh system database. */
export async function openDbos(postgresUrl: string): Promise<BenchEngine> {
  const moduleName = '@dbos-inc/dbos-sdk';
  const { DBOS } = (await import(moduleName)) as { DBOS: DbosApi };
  const url = new URL(postgresUrl);
  url.pathname = `/bench_dbos_${Date.now().toString(36)}`;
  DBOS.setConfig({ name: 'weft-bench', applicationVersion: 'bench-1', systemDatabaseUrl: url.toString(), logLevel: 'warn' });
  const seq3 = DBOS.registerWorkflow(
    async (n: number) => {
      let x = n;
      for (let i = 0; i < 3; i++) {
        const v = x;
        x = await DBOS.runStep(async () => v + 1, { name: `inc${i}` });
      }
      return x;
    },
    { name: 'seq3' },
  );
  const fan10 = DBOS.registerWorkflow(
    async (n: number) => {
      const parts = await Promise.all(Array.from({ length: 10 }, (_, i) => DBOS.runStep(async () => n + i, { name: `part${i}` })));
      return parts.reduce((a, b) => a + b, 0);
    },
    { name: 'fan10' },
  );
  await DBOS.launch();
  const flows = { seq3, fan10 };
  return {
    async run(workload: Workload, id: string, n: number): Promise<number> {
      const handle = await DBOS.startWorkflow(flows[workload], { workflowID: id })(n);
      return handle.getResult();
    },
    async processes() {
      // DBOS is a library: the workflows, the client and its Postgres connections live in this process.
      return { app: [process.pid], postgres: await postgresBackends(postgresUrl, [process.pid]) };
    },
    close: () => DBOS.shutdown(),
  };
}
