/**
 * Measures one engine (argv[2]) on both workloads and prints one JSON line. Each engine runs in its
 * own process so that one engine's leftovers (connections, timers, JIT state) never touch another.
 */
import type { BenchEngine, MeasureOptions, WorkloadResult } from './measure.js';
import { ENGINES, measure } from './measure.js';
import type { EngineName } from './measure.js';


async function open(name: EngineName, postgresUrl: string): Promise<BenchEngine> {
  switch (name) {
    case 'weft-sqlite':
      return (await import('./engines/weft.js')).openWeft();
    case 'weft-postgres':
      return (await import('./engines/weft.js')).openWeft({ postgresUrl });
    case 'weft-sqlite-100k':
      return (await import('./engines/weft.js')).openWeft({ seedFinished: 100_000 });
    case 'weft-postgres-100k':
      return (await import('./engines/weft.js')).openWeft({ postgresUrl, seedFinished: 100_000 });
    case 'weft-sqlite-2w':
      return (await import('./engines/weft.js')).openWeft({ workers: 2 });
    case 'weft-postgres-2w':
      return (await import('./engines/weft.js')).openWeft({ postgresUrl, workers: 2 });
    case 'dbos':
      return (await import('./engines/dbos.js')).openDbos(postgresUrl);
    case 'restate':
      return (await import('./engines/restate.js')).openRestate();
  }
}

async function main(): Promise<void> {
  const name = process.argv[2] as EngineName;
  if (!(ENGINES as readonly string[]).includes(name)) throw new Error(`unknown engine "${name}"; known: ${ENGINES.join(', ')}`);
  const options = JSON.parse(process.argv[3] ?? '{}') as MeasureOptions & { postgresUrl: string };
  const engine = await open(name, options.postgresUrl);
  const results: WorkloadResult[] = [];
  try {
    for (const workload of ['seq3', 'fan10'] as const) {
      results.push(await measure(engine, workload, `${name}-${Date.now().toString(36)}`, options));
      process.stderr.write(`${name} ${workload}: ${JSON.stringify(results[results.length - 1])}\n`);
    }
  } finally {
    await engine.close();
  }
  process.stdout.write(`RESULT ${JSON.stringify({ engine: name, results })}\n`);
  // SDK clients keep sockets and timers alive after close; the parent only needs the line above.
  process.exit(0);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
